package server

import (
	"context"
	"fmt"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// healthTimeout bounds the read a health check makes (etcd's request
// timeout with its default heartbeat).
const healthTimeout = 5 * time.Second

// Health is etcd's /health answer: a raised alarm not in exclude, or a
// failing read, makes it unhealthy with etcd's reason.
func (s *Server) Health(ctx context.Context, exclude map[string]bool) (healthy bool, reason string) {
	for _, a := range s.alarms.get(pb.AlarmType_NONE) {
		if exclude[a.Alarm.String()] {
			continue
		}
		switch a.Alarm {
		case pb.AlarmType_NOSPACE:
			return false, "ALARM NOSPACE"
		case pb.AlarmType_CORRUPT:
			return false, "ALARM CORRUPT"
		default:
			return false, "ALARM UNKNOWN"
		}
	}
	if err := s.readCheck(ctx); err != nil {
		return false, fmt.Sprintf("RANGE ERROR:%s", err)
	}
	return true, ""
}

// ReadyChecks are etcd's /readyz checks, by name; each returns nil when it
// passes. A single member is always a voting member with a leader, and a
// serializable read is the linearizable one.
func (s *Server) ReadyChecks() map[string]func(context.Context) error {
	alarm := func(ctx context.Context) error {
		if s.alarms.active(pb.AlarmType_CORRUPT) {
			return fmt.Errorf("alarm activated: %s", pb.AlarmType_CORRUPT)
		}
		return nil
	}
	return map[string]func(context.Context) error{
		"data_corruption":   alarm,
		"serializable_read": s.readCheck,
		"linearizable_read": s.readCheck,
		"non_learner":       func(context.Context) error { return nil },
	}
}

func (s *Server) readCheck(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	_, err := s.store.Range(ctx, &pb.RangeRequest{Key: []byte{0}, KeysOnly: true, Limit: 1})
	return err
}
