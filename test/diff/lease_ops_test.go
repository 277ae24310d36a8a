package diff

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// minTTL is etcd's minimum lease TTL with default timing, in seconds.
const minTTL = 2

// The lease requests as Ops. Answers that depend on time or on a
// server-chosen ID are brought to a timing-free form inside the call, so
// that Check compares everything else exactly.

// LeaseGrantAnyOp grants a lease with a server-chosen ID; the positive ID
// each server chose is replaced by 1 (a zero or negative ID stays, and
// differs).
func LeaseGrantAnyOp(name string, ttl int64) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		resp, err := s.Lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: ttl})
		if err == nil && resp.ID > 0 {
			resp.ID = 1
		}
		return resp, err
	}}
}

func LeaseRevokeOp(name string, id int64) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.Lease.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id})
	}}
}

// LeaseTTLOp asks for a lease's time to live. A remaining TTL within one
// second below the granted TTL is reported as the granted TTL, and keys
// are sorted (etcd lists them in map order).
func LeaseTTLOp(name string, id int64, keys bool) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		resp, err := s.Lease.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: id, Keys: keys})
		if err == nil {
			if resp.TTL >= resp.GrantedTTL-1 && resp.TTL <= resp.GrantedTTL {
				resp.TTL = resp.GrantedTTL
			}
			slices.SortFunc(resp.Keys, bytes.Compare)
		}
		return resp, err
	}}
}

// LeaseLeasesOp lists the leases, sorted by ID (etcd orders them by expiry,
// which ties between leases granted together).
func LeaseLeasesOp(name string) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		resp, err := s.Lease.LeaseLeases(ctx, &pb.LeaseLeasesRequest{})
		if err == nil {
			slices.SortFunc(resp.Leases, func(a, b *pb.LeaseStatus) int { return int(a.ID - b.ID) })
		}
		return resp, err
	}}
}

// KeepAliveOp sends one keepalive on a fresh LeaseKeepAlive stream, as
// clientv3 does, and returns the answer.
func KeepAliveOp(name string, id int64) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		return keepAliveOnce(ctx, s, id)
	}}
}

func keepAliveOnce(ctx context.Context, s *Side, id int64) (*pb.LeaseKeepAliveResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := s.Lease.LeaseKeepAlive(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Send(&pb.LeaseKeepAliveRequest{ID: id}); err != nil {
		return nil, err
	}
	resp, err := st.Recv()
	if err != nil {
		return nil, err
	}
	return resp, st.CloseSend()
}

// watchEvents opens a watch on [key, end) from revision rev and returns a
// function that collects n events, or nil when the server has no Watch
// service yet (the caller then skips its watch checks).
func watchEvents(t *testing.T, s *Side, key, end string, rev int64) func(n int) []*mvccpb.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := s.Watch.Watch(ctx)
	if err == nil {
		err = st.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: &pb.WatchCreateRequest{
			Key: []byte(key), RangeEnd: []byte(end), StartRevision: rev}}})
	}
	var created *pb.WatchResponse
	if err == nil {
		created, err = st.Recv()
	}
	if status.Code(err) == codes.Unimplemented {
		t.Logf("%s: no Watch service yet; watch checks skipped", s.Name)
		return nil
	}
	if err != nil || !created.Created {
		t.Fatalf("%s: watch: %v %v", s.Name, created, err)
	}
	return func(n int) []*mvccpb.Event {
		t.Helper()
		var evs []*mvccpb.Event
		done := make(chan struct{})
		go func() {
			defer close(done)
			for len(evs) < n {
				r, err := st.Recv()
				if err != nil {
					return
				}
				evs = append(evs, r.Events...)
			}
		}()
		select {
		case <-done:
		case <-time.After(CallTimeout):
			cancel()
			<-done
		}
		return evs
	}
}

// revisionFields are what concurrent subtests interleave differently on the
// two servers.
var revisionFields = map[protoreflect.Name]bool{"revision": true, "create_revision": true, "mod_revision": true}

// Unordered wraps op for a subtest that runs in parallel with others: every
// revision in the answer is cleared, since the two servers interleave the
// subtests' writes differently.
func Unordered(op Op) Op {
	return Op{op.Name, func(ctx context.Context, s *Side) (proto.Message, error) {
		resp, err := op.Call(ctx, s)
		if resp != nil && resp.ProtoReflect().IsValid() {
			clearRevisions(resp.ProtoReflect())
		}
		return resp, err
	}}
}

func clearRevisions(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case revisionFields[fd.Name()] && fd.Kind() == protoreflect.Int64Kind:
			m.Clear(fd)
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				clearRevisions(v.List().Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap():
			clearRevisions(v.Message())
		}
		return true
	})
}
