package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// authMaintenance is etcd's authMaintenanceServer: the Maintenance service
// with its permission checks first. Status and listing alarms need a user;
// the rest need the root role.
type authMaintenance struct{ *maintenanceService }

func (m authMaintenance) Status(ctx context.Context, r *pb.StatusRequest) (*pb.StatusResponse, error) {
	if err := m.s.requireAuthInfo(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.Status(ctx, r)
}

func (m authMaintenance) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	check := m.s.requireAdmin
	if r.GetAction() == pb.AlarmRequest_GET {
		check = m.s.requireAuthInfo
	}
	if err := check(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.Alarm(ctx, r)
}

func (m authMaintenance) Defragment(ctx context.Context, r *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if err := m.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.Defragment(ctx, r)
}

func (m authMaintenance) Hash(ctx context.Context, r *pb.HashRequest) (*pb.HashResponse, error) {
	if err := m.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.Hash(ctx, r)
}

func (m authMaintenance) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	if err := m.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.HashKV(ctx, r)
}

func (m authMaintenance) Snapshot(r *pb.SnapshotRequest, srv pb.Maintenance_SnapshotServer) error {
	if err := m.s.requireAdmin(srv.Context()); err != nil {
		return err
	}
	return m.maintenanceService.Snapshot(r, srv)
}

func (m authMaintenance) MoveLeader(ctx context.Context, r *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	if err := m.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.MoveLeader(ctx, r)
}

func (m authMaintenance) Downgrade(ctx context.Context, r *pb.DowngradeRequest) (*pb.DowngradeResponse, error) {
	if err := m.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return m.maintenanceService.Downgrade(ctx, r)
}

// authCluster is the Cluster service with etcd's checks: listing members
// needs a user, changing them the root role (checked before Strata's
// single member refuses the change).
type authCluster struct{ *clusterService }

func (c authCluster) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	if err := c.s.requireAuthInfo(ctx); err != nil {
		return nil, err
	}
	return c.clusterService.MemberList(ctx, r)
}

func (c authCluster) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	if err := c.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return c.clusterService.MemberAdd(ctx, r)
}

func (c authCluster) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	if err := c.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return c.clusterService.MemberRemove(ctx, r)
}

func (c authCluster) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	if err := c.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return c.clusterService.MemberUpdate(ctx, r)
}

func (c authCluster) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	if err := c.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	return c.clusterService.MemberPromote(ctx, r)
}
