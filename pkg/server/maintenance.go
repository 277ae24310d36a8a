package server

import (
	"context"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// DefaultQuotaBytes is the quota Status reports when none is set, etcd's.
const DefaultQuotaBytes = 2 * 1024 * 1024 * 1024

// maintenanceService is etcd's Maintenance service; what is not here yet
// answers Unimplemented.
type maintenanceService struct {
	pb.UnimplementedMaintenanceServer
	s *Server
}

func (m *maintenanceService) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	h, err := m.s.header(ctx)
	if err != nil {
		return nil, err
	}
	resp := &pb.StatusResponse{
		Header:           h,
		Version:          m.s.cfg.Version,
		Leader:           m.s.cfg.MemberID,
		RaftIndex:        uint64(h.Revision),
		RaftAppliedIndex: uint64(h.Revision),
		RaftTerm:         raftTerm,
		DbSizeQuota:      m.s.quotaReported(),
		StorageVersion:   storageVersion(m.s.cfg.Version),
		DowngradeInfo:    &pb.DowngradeInfo{},
	}
	if m.s.size != nil {
		total, inUse, err := m.s.size.Size(ctx)
		if err != nil {
			return nil, toGRPC(err)
		}
		resp.DbSize, resp.DbSizeInUse = total, inUse
	}
	for _, a := range m.s.alarms.get(pb.AlarmType_NONE) {
		resp.Errors = append(resp.Errors, a.String())
	}
	return resp, nil
}

// storageVersion is the major.minor.0 of an etcd version, as etcd reports
// its storage version.
func storageVersion(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1] + ".0"
}
