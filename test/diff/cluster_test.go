package diff

import (
	"context"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// TestStatusShape checks the parts of Maintenance.Status that must match
// etcd in kind, not value: the revision, a version, and that the single
// member names itself leader. Sizes and raft indexes are not compared.
func TestStatusShape(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, Step{Key: "s", Value: "1"}, Step{Key: "s", Value: "2"})
		e, r := p.Run(func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.Maintenance.Status(ctx, &pb.StatusRequest{})
		})
		for i, s := range []*Side{p.Etcd, p.Strata} {
			res := []Result{e, r}[i]
			if res.Err != nil {
				t.Errorf("%s: Status: %v", s.Name, res.Err)
				continue
			}
			st := res.Resp.(*pb.StatusResponse)
			h := st.GetHeader()
			if h.GetRevision() != 3 {
				t.Errorf("%s: Status header revision = %d, want 3", s.Name, h.GetRevision())
			}
			if st.Version == "" {
				t.Errorf("%s: Status version is empty", s.Name)
			}
			if h.GetMemberId() == 0 || st.Leader != h.GetMemberId() {
				t.Errorf("%s: Status leader %x, header member %x: want equal and non-zero", s.Name, st.Leader, h.GetMemberId())
			}
			if h.GetClusterId() == 0 {
				t.Errorf("%s: Status header cluster_id is zero", s.Name)
			}
			if st.IsLearner {
				t.Errorf("%s: Status says learner", s.Name)
			}
			if len(st.Errors) != 0 {
				t.Errorf("%s: Status errors %v", s.Name, st.Errors)
			}
		}
	})
}

// TestMemberListShape checks MemberList: one voting member, the responder,
// with client URLs; the header is compared as for KV calls.
func TestMemberListShape(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		e, s := p.Run(func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.Cluster.MemberList(ctx, &pb.MemberListRequest{Linearizable: true})
		})
		for i, r := range []Result{e, s} {
			name := []string{p.Etcd.Name, p.Strata.Name}[i]
			if r.Err != nil {
				t.Errorf("%s: MemberList: %v", name, r.Err)
				continue
			}
			ml := r.Resp.(*pb.MemberListResponse)
			if len(ml.Members) != 1 {
				t.Errorf("%s: %d members, want 1", name, len(ml.Members))
				continue
			}
			m := ml.Members[0]
			if m.ID == 0 || m.ID != ml.GetHeader().GetMemberId() {
				t.Errorf("%s: member ID %x, header member %x: want equal and non-zero", name, m.ID, ml.GetHeader().GetMemberId())
			}
			if len(m.ClientURLs) == 0 || m.Name == "" || m.IsLearner {
				t.Errorf("%s: member %v: want a name, client URLs, not learner", name, m)
			}
		}
		if e.Err == nil && s.Err == nil {
			eh, sh := Normalize(e.Resp.(*pb.MemberListResponse).Header), Normalize(s.Resp.(*pb.MemberListResponse).Header)
			if d := Mismatch(Result{Resp: eh}, Result{Resp: sh}); d != "" {
				t.Errorf("MemberList header: %s", d)
			}
		}
	})
}
