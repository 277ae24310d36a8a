package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Alarm answers as an etcd with no alarm raised: GET lists none,
// ACTIVATE and DEACTIVATE of an alarm that is not raised change nothing.
func (m *maintenanceService) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	h, err := m.s.header(ctx)
	if err != nil {
		return nil, err
	}
	return &pb.AlarmResponse{Header: h, Alarms: []*pb.AlarmMember{}}, nil
}
