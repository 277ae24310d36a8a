package diff

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// members remembers, per side, the ID of each member a test added, by the
// label the test gave it: IDs are random on each side.
type members struct {
	mu  sync.Mutex
	ids map[*Side]map[string]uint64
}

const self = "self"

// id is the member labelled name on s; "self" is the responder.
func (m *members) id(ctx context.Context, s *Side, name string) (uint64, error) {
	if name == self {
		r, err := s.Cluster.MemberList(ctx, &pb.MemberListRequest{})
		if err != nil {
			return 0, err
		}
		return r.Header.MemberId, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.ids[s][name]; ok {
		return id, nil
	}
	return 4242, nil // a member neither side has
}

func (m *members) set(s *Side, name string, id uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ids[s] == nil {
		m.ids[s] = map[string]uint64{}
	}
	m.ids[s][name] = id
}

// normalized is a member list as both sides can agree on it: the responder
// is ID 1 without its name and URLs (those of two servers differ), every
// other member ID 0, and the list sorted by those and the peer URLs.
func normalized(selfID uint64, ms []*pb.Member) []*pb.Member {
	out := make([]*pb.Member, len(ms))
	for i, m := range ms {
		c := proto.Clone(m).(*pb.Member)
		if c.ID == selfID {
			c.ID, c.Name, c.PeerURLs, c.ClientURLs = 1, "", nil, nil
		} else {
			c.ID = 0
		}
		out[i] = c
	}
	slices.SortFunc(out, func(a, b *pb.Member) int {
		return cmp.Or(-cmp.Compare(a.ID, b.ID), strings.Compare(strings.Join(a.PeerURLs, " "), strings.Join(b.PeerURLs, " ")))
	})
	return out
}

func (m *members) list() Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		r, err := s.Cluster.MemberList(ctx, &pb.MemberListRequest{})
		if err != nil {
			return nil, err
		}
		r.Members = normalized(r.Header.MemberId, r.Members)
		return r, nil
	}
}

// add adds a member labelled name; the response's member ID is checked
// to be non-zero and in the list, then cleared.
func (m *members) add(name string, urls []string, learner bool) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		r, err := s.Cluster.MemberAdd(ctx, &pb.MemberAddRequest{PeerURLs: urls, IsLearner: learner})
		if err != nil {
			return nil, err
		}
		listed := slices.ContainsFunc(r.Members, func(o *pb.Member) bool { return o.ID == r.Member.ID })
		if r.Member.ID == 0 || !listed {
			return &pb.MemberAddResponse{Header: r.Header}, nil // fails the comparison
		}
		m.set(s, name, r.Member.ID)
		r.Member.ID = 0
		r.Members = normalized(r.Header.MemberId, r.Members)
		return r, nil
	}
}

// call runs one change of the member labelled name and normalizes the
// member list it answers.
func (m *members) call(name string, f func(ctx context.Context, s *Side, id uint64) (*pb.ResponseHeader, []*pb.Member, proto.Message, error)) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		id, err := m.id(ctx, s, name)
		if err != nil {
			return nil, err
		}
		h, ms, r, err := f(ctx, s, id)
		if err != nil {
			return nil, err
		}
		copy(ms, normalized(h.MemberId, ms))
		return r, nil
	}
}

func (m *members) remove(name string) Call {
	return m.call(name, func(ctx context.Context, s *Side, id uint64) (*pb.ResponseHeader, []*pb.Member, proto.Message, error) {
		r, err := s.Cluster.MemberRemove(ctx, &pb.MemberRemoveRequest{ID: id})
		return r.GetHeader(), r.GetMembers(), r, err
	})
}

func (m *members) update(name string, urls []string) Call {
	return m.call(name, func(ctx context.Context, s *Side, id uint64) (*pb.ResponseHeader, []*pb.Member, proto.Message, error) {
		r, err := s.Cluster.MemberUpdate(ctx, &pb.MemberUpdateRequest{ID: id, PeerURLs: urls})
		return r.GetHeader(), r.GetMembers(), r, err
	})
}

func (m *members) promote(name string) Call {
	return m.call(name, func(ctx context.Context, s *Side, id uint64) (*pb.ResponseHeader, []*pb.Member, proto.Message, error) {
		r, err := s.Cluster.MemberPromote(ctx, &pb.MemberPromoteRequest{ID: id})
		return r.GetHeader(), r.GetMembers(), r, err
	})
}

// TestMembershipChanges runs MemberAdd, MemberUpdate, MemberPromote,
// MemberRemove and MemberList through etcd's checks on a one-member
// cluster, in the order where etcd keeps its quorum, then adds a voting
// member (etcd's one-member exception) and checks what etcd refuses next
// without a raft round: the answers, errors and member lists must match.
func TestMembershipChanges(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		m := &members{ids: map[*Side]map[string]uint64{}}
		steps := []struct {
			name string
			call Call
		}{
			{"list one member", m.list()},
			{"add learner", m.add("l1", []string{"http://10.0.0.1:2380"}, true)},
			{"add second learner", m.add("l2", []string{"http://10.0.0.2:2380"}, true)},
			{"add without URLs", m.add("x", nil, false)},
			{"add bad scheme", m.add("x", []string{"ftp://10.0.0.3:2380"}, false)},
			{"add URL with path", m.add("x", []string{"http://10.0.0.3:2380/p"}, false)},
			{"add URL without port", m.add("x", []string{"http://10.0.0.3"}, false)},
			{"add unparsable URL", m.add("x", []string{"http://[::1"}, false)},
			// A URL set of its own: the same set added in the same second
			// would have the same ID, refused as existing first.
			{"add voter with a taken URL", m.add("x", []string{"http://10.0.0.1:2380", "http://10.0.0.13:2380"}, false)},
			{"list with learner", m.list()},
			{"promote learner never started", m.promote("l1")},
			{"promote self", m.promote(self)},
			{"promote unknown", m.promote("unknown")},
			{"update unknown", m.update("unknown", []string{"http://10.0.0.8:2380"})},
			{"update self", m.update(self, []string{"http://10.0.0.9:2380"})},
			{"update learner to self's URL", m.update("l1", []string{"http://10.0.0.9:2380"})},
			{"update learner, unsorted", m.update("l1", []string{"http://10.0.0.5:2380", "http://10.0.0.4:2380"})},
			{"list after updates", m.list()},
			{"add learner with self's new URL", m.add("x", []string{"http://10.0.0.9:2380"}, true)},
			{"remove self", m.remove(self)},
			{"remove unknown", m.remove("unknown")},
			{"remove learner", m.remove("l1")},
			{"remove learner again", m.remove("l1")},
			{"update removed learner", m.update("l1", []string{"http://10.0.0.6:2380"})},
			{"promote removed learner", m.promote("l1")},
			{"add learner after removal", m.add("l3", []string{"http://10.0.0.12:2380"}, true)},
			{"remove second learner", m.remove("l3")},
			// etcd's exception: a second voting member may join a
			// one-member cluster. etcd has no quorum from here on, so only
			// what it answers without a raft round is compared.
			{"add voter, URLs unsorted and spaced", m.add("v1", []string{" http://10.0.0.7:2380", "http://10.0.0.6:2380"}, false)},
			{"list with unstarted voter", m.list()},
			{"add voter beside unstarted voter", m.add("x", []string{"http://10.0.0.11:2380"}, false)},
			{"list at the end", m.list()},
		}
		for _, st := range steps {
			p.Check(t, st.name, st.call)
			if st.name == "list with unstarted voter" {
				// etcd refuses a learner as an unhealthy cluster, an
				// Unavailable that Check takes for a broken oracle.
				e, s := p.Run(m.add("x", []string{"http://10.0.0.10:2380"}, true))
				for _, r := range []Result{e, s} {
					if d := Mismatch(Result{Err: rpctypes.ErrGRPCUnhealthy}, r); d != "" {
						t.Errorf("add learner beside unstarted voter: %s", d)
					}
				}
			}
		}
		// What docs/operations.md says of the divergence: etcd, two voting
		// members with one started, has no quorum and commits no write;
		// Strata's data is in its database and it goes on writing.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		put := &pb.PutRequest{Key: []byte("after-member-add"), Value: []byte("v")}
		if _, err := p.Etcd.KV.Put(ctx, put); status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("etcd without quorum: Put = %v, want a deadline exceeded", err)
		}
		if _, err := p.Strata.KV.Put(context.Background(), put); err != nil {
			t.Errorf("strata after a voting member was added: Put = %v, want it to commit", err)
		}
	})
}
