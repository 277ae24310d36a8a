package server

import (
	"context"
	"sort"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// alarms is the set of raised alarms, as etcd's v3alarm.AlarmStore: at most
// one alarm of each type per member ID. It lives in memory: it is not in
// the database, so a restart clears it (a write over the quota raises
// NOSPACE again), and each process sharing a database has its own set.
type alarms struct {
	mu  sync.Mutex
	set map[pb.AlarmType]map[uint64]*pb.AlarmMember // guarded by mu
	// onChange, if set, is called (under mu) with +1 when an alarm is
	// raised and -1 when it is cleared; it feeds the metrics.
	onChange func(m *pb.AlarmMember, delta int)
}

func newAlarms(onChange func(*pb.AlarmMember, int)) *alarms {
	return &alarms{set: map[pb.AlarmType]map[uint64]*pb.AlarmMember{}, onChange: onChange}
}

// activate raises alarm t for member id and returns it (the one already
// raised, if any).
func (a *alarms) activate(id uint64, t pb.AlarmType) *pb.AlarmMember {
	a.mu.Lock()
	defer a.mu.Unlock()
	ms := a.set[t]
	if ms == nil {
		ms = map[uint64]*pb.AlarmMember{}
		a.set[t] = ms
	}
	if m := ms[id]; m != nil {
		return m
	}
	m := &pb.AlarmMember{MemberID: id, Alarm: t}
	ms[id] = m
	a.changed(m, 1)
	return m
}

// deactivate clears alarm t of member id and returns it, or nil if it was
// not raised.
func (a *alarms) deactivate(id uint64, t pb.AlarmType) *pb.AlarmMember {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.set[t][id]
	if m == nil {
		return nil
	}
	delete(a.set[t], id)
	a.changed(m, -1)
	return m
}

func (a *alarms) changed(m *pb.AlarmMember, delta int) {
	if a.onChange != nil {
		a.onChange(m, delta)
	}
}

// get lists the alarms of type t, or all of them for NONE, in a stable
// order (type, then member).
func (a *alarms) get(t pb.AlarmType) []*pb.AlarmMember {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*pb.AlarmMember
	for at, ms := range a.set {
		if t != pb.AlarmType_NONE && at != t {
			continue
		}
		for _, m := range ms {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alarm != out[j].Alarm {
			return out[i].Alarm < out[j].Alarm
		}
		return out[i].MemberID < out[j].MemberID
	})
	return out
}

// active reports whether an alarm of type t is raised by any member.
func (a *alarms) active(t pb.AlarmType) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.set[t]) > 0
}

// Alarm lists, raises or clears alarms as etcd's Maintenance.Alarm does:
// GET of NONE lists every alarm; ACTIVATE answers with the alarm raised (an
// ACTIVATE of NONE changes nothing); DEACTIVATE answers with the alarm
// cleared, or none if it was not raised. While NOSPACE is raised, Put,
// LeaseGrant and a Txn that would put are refused with "database space
// exceeded"; deletes, compaction and defragmentation go on, so that an
// operator can make room and then clear the alarm.
func (m *maintenanceService) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	h, err := m.s.header(ctx)
	if err != nil {
		return nil, err
	}
	resp := &pb.AlarmResponse{Header: h}
	switch r.Action {
	case pb.AlarmRequest_GET:
		resp.Alarms = m.s.alarms.get(r.Alarm)
	case pb.AlarmRequest_ACTIVATE:
		if r.Alarm != pb.AlarmType_NONE {
			resp.Alarms = []*pb.AlarmMember{m.s.alarms.activate(r.MemberID, r.Alarm)}
			m.s.log.Warn("alarm raised", "alarm", r.Alarm.String(), "member", r.MemberID)
		}
	case pb.AlarmRequest_DEACTIVATE:
		if a := m.s.alarms.deactivate(r.MemberID, r.Alarm); a != nil {
			resp.Alarms = []*pb.AlarmMember{a}
			m.s.log.Info("alarm cleared", "alarm", r.Alarm.String(), "member", r.MemberID)
		}
	}
	return resp, nil
}
