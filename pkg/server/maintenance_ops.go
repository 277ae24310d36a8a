package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Hasher is the engine's HashKV.
type Hasher interface {
	HashKV(ctx context.Context, rev int64) (hash uint32, current, compacted, hashRev int64, err error)
}

// Defragmenter is the optional backend capability that gives free space
// back (VACUUM on SQLite).
type Defragmenter interface {
	Defragment(ctx context.Context) error
}

// Snapshotter is the optional backend capability that produces a consistent
// copy of the whole database.
type Snapshotter interface {
	// Snapshot returns the copy and its size; closing it removes any
	// temporary file.
	Snapshot(ctx context.Context) (io.ReadCloser, int64, error)
}

// snapshotChunk is the size of each Snapshot message, as etcd's.
const snapshotChunk = 32 * 1024

func (m *maintenanceService) Defragment(ctx context.Context, _ *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if m.s.defrag == nil {
		return nil, status.Error(codes.Unimplemented, "strata: this datastore cannot be defragmented by strata")
	}
	if err := m.s.defrag.Defragment(ctx); err != nil {
		return nil, toGRPC(err)
	}
	m.s.quota.forget()
	m.s.log.Info("finished defragment")
	return &pb.DefragmentResponse{}, nil
}

func (m *maintenanceService) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	if m.s.hasher == nil {
		return nil, status.Error(codes.Unimplemented, "strata: HashKV is not available")
	}
	h, cur, comp, rev, err := m.s.hasher.HashKV(ctx, r.Revision)
	if err != nil {
		return nil, toGRPC(err)
	}
	resp := &pb.HashKVResponse{Header: &pb.ResponseHeader{Revision: cur}, Hash: h, CompactRevision: comp, HashRevision: rev}
	return resp, m.s.fill(ctx, resp.Header)
}

// Hash hashes the whole keyspace history kept; Strata's backend hash is
// HashKV's at the current revision.
func (m *maintenanceService) Hash(ctx context.Context, _ *pb.HashRequest) (*pb.HashResponse, error) {
	resp, err := m.HashKV(ctx, &pb.HashKVRequest{})
	if err != nil {
		return nil, err
	}
	return &pb.HashResponse{Header: resp.Header, Hash: resp.Hash}, nil
}

// MoveLeader answers as a single-member etcd: moving leadership to itself
// succeeds at once, to any other member is refused.
func (m *maintenanceService) MoveLeader(ctx context.Context, r *pb.MoveLeaderRequest) (*pb.MoveLeaderResponse, error) {
	if r.TargetID != m.s.cfg.MemberID {
		return nil, rpctypes.ErrGRPCBadLeaderTransferee
	}
	return &pb.MoveLeaderResponse{}, nil
}

// Snapshot streams a consistent copy of the database in etcd's framing:
// chunks with the bytes remaining, then the SHA-256 of the data.
func (m *maintenanceService) Snapshot(_ *pb.SnapshotRequest, srv pb.Maintenance_SnapshotServer) error {
	if m.s.snap == nil {
		return status.Error(codes.Unimplemented, "strata: this datastore cannot be snapshotted by strata; use the database's own backup tools")
	}
	rc, total, err := m.s.snap.Snapshot(srv.Context())
	if err != nil {
		return toGRPC(err)
	}
	defer rc.Close()
	version := storageVersion(m.s.cfg.Version)
	h := sha256.New()
	var sent int64
	for total-sent > 0 {
		buf := make([]byte, snapshotChunk)
		n, err := io.ReadFull(rc, buf)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return toGRPC(err)
		}
		if n == 0 {
			return status.Error(codes.Internal, "strata: snapshot shorter than its size")
		}
		sent += int64(n)
		h.Write(buf[:n])
		if err := srv.Send(&pb.SnapshotResponse{RemainingBytes: uint64(total - sent), Blob: buf[:n], Version: version}); err != nil {
			return err
		}
	}
	return srv.Send(&pb.SnapshotResponse{Blob: h.Sum(nil), Version: version})
}
