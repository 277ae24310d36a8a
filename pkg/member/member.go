// Package member is etcd's cluster membership as one Strata server keeps
// it: MemberList, MemberAdd, MemberRemove, MemberUpdate and MemberPromote
// with etcd's checks, in etcd's order, and its errors.
//
// The serving server is the one started member. The members MemberAdd
// records are kept in the database (kv.MemberWriteTxn), so they survive a
// restart and every server sharing the database lists them. Strata has no
// peer protocol yet (the replicated mode will bring one), so a member
// added stays unstarted, as an etcd member does until its process joins.
// Unlike etcd, the server keeps serving after a voting member is added: its
// data lives in the database, not in a raft quorum that now needs two
// members.
package member

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

// maxLearners is etcd's default --max-learners.
const maxLearners = 1

// errNotEnoughStarted is etcd's ErrNotEnoughStartedMembers as its cluster
// service sends it: togRPCError has no entry for it, so it leaves as
// Unknown with etcd's message (rpctypes.ErrGRPCMemberNotEnoughStarted, a
// FailedPrecondition, is never sent).
var errNotEnoughStarted = status.Error(codes.Unknown, "etcdserver: re-configuration failed due to not enough started members")

// Cluster is the membership seen by one server.
type Cluster struct {
	be   kv.Backend
	self *pb.Member
}

// New returns the membership of the server described by self (its ID,
// name, client and peer URLs) over the backend's membership store.
func New(be kv.Backend, self *pb.Member) *Cluster {
	return &Cluster{be: be, self: self}
}

// view is the membership as one transaction reads it.
type view struct {
	self    uint64
	members map[uint64]*pb.Member // the serving member included
	removed map[uint64]bool
}

// load reads the membership store. The serving member is c.self, with the
// peer URLs of its record if MemberUpdate wrote one.
func (c *Cluster) load(ctx context.Context, tx kv.ReadTxn) (*view, error) {
	stored, err := tx.Members(ctx)
	if err != nil {
		return nil, err
	}
	v := &view{self: c.self.ID, members: map[uint64]*pb.Member{}, removed: map[uint64]bool{}}
	self := proto.Clone(c.self).(*pb.Member)
	v.members[self.ID] = self
	for _, m := range stored {
		switch {
		case m.Removed:
			v.removed[m.ID] = true
		case m.ID == self.ID:
			self.PeerURLs = m.PeerURLs
		default:
			v.members[m.ID] = m.Member
		}
	}
	return v, nil
}

// list is every member in ID order, as etcd lists them.
func (v *view) list() []*pb.Member {
	out := make([]*pb.Member, 0, len(v.members))
	for _, m := range v.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *pb.Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// started is etcd's Member.IsStarted: the member has published its name.
func started(m *pb.Member) bool { return m.Name != "" }

// voting counts the voting members and those of them started, leaving out
// skip.
func (v *view) voting(skip uint64) (n, up int) {
	for id, m := range v.members {
		if m.IsLearner || id == skip {
			continue
		}
		n++
		if started(m) {
			up++
		}
	}
	return n, up
}

// connected is how many voting members the serving member is connected to
// (etcd's numConnectedSince), itself included: only itself, a voting member
// that no change can remove, as no other member runs.
const connected = 1

func quorum(n int) int { return n/2 + 1 }

// List returns every member.
func (c *Cluster) List(ctx context.Context) ([]*pb.Member, error) {
	var out []*pb.Member
	err := c.be.Read(ctx, func(tx kv.ReadTxn) error {
		v, err := c.load(ctx, tx)
		if err == nil {
			out = v.list()
		}
		return err
	})
	return out, err
}

// change runs fn on the membership inside one write transaction and
// returns the members after it; fn records what it changes with put.
func (c *Cluster) change(ctx context.Context, fn func(v *view, put func(kv.StoredMember) error) error) ([]*pb.Member, error) {
	var out []*pb.Member
	err := c.be.Write(ctx, func(tx kv.WriteTxn) error {
		v, err := c.load(ctx, tx)
		if err != nil {
			return err
		}
		put := func(m kv.StoredMember) error {
			if m.Removed {
				delete(v.members, m.ID)
				v.removed[m.ID] = true
			} else {
				v.members[m.ID] = m.Member
			}
			if m.ID == v.self && !m.Removed {
				// The serving member's record holds its peer URLs only;
				// its name and client URLs are this process's.
				m = kv.StoredMember{Member: &pb.Member{ID: m.ID, PeerURLs: m.PeerURLs, IsLearner: m.IsLearner}}
			}
			return tx.PutMember(ctx, m)
		}
		if err := fn(v, put); err != nil {
			return err
		}
		out = v.list()
		return nil
	})
	return out, err
}

// Add is MemberAdd: the new member (ID, peer URLs, learner flag) and the
// members after it.
func (c *Cluster) Add(ctx context.Context, peerURLs []string, learner bool) (*pb.Member, []*pb.Member, error) {
	urls, err := parseURLs(peerURLs)
	if err != nil {
		return nil, nil, rpctypes.ErrGRPCMemberBadURLs
	}
	m := &pb.Member{ID: memberID(urls, time.Now()), PeerURLs: urls, IsLearner: learner}
	members, err := c.change(ctx, func(v *view, put func(kv.StoredMember) error) error {
		// etcd's mayAddMember (strict reconfiguration checks).
		n, up := v.voting(0)
		if !learner && !(up == 1 && n+1 == 2) && up < quorum(n+1) {
			return errNotEnoughStarted
		}
		if n != 1 && connected < quorum(n+1) {
			return rpctypes.ErrGRPCUnhealthy
		}
		// etcd's ValidateConfigurationChange.
		if v.removed[m.ID] {
			return rpctypes.ErrGRPCMemberNotFound
		}
		if v.members[m.ID] != nil {
			return rpctypes.ErrGRPCMemberExist
		}
		learners := 0
		for _, o := range v.members {
			for _, u := range o.PeerURLs {
				if slices.Contains(m.PeerURLs, u) {
					return rpctypes.ErrGRPCPeerURLExist
				}
			}
			if o.IsLearner {
				learners++
			}
		}
		if learner && learners+1 > maxLearners {
			return rpctypes.ErrGRPCTooManyLearners
		}
		return put(kv.StoredMember{Member: m})
	})
	if err != nil {
		return nil, nil, err
	}
	return m, members, nil
}

// Remove is MemberRemove.
func (c *Cluster) Remove(ctx context.Context, id uint64) ([]*pb.Member, error) {
	return c.change(ctx, func(v *view, put func(kv.StoredMember) error) error {
		// etcd's mayRemoveMember: a learner leaves freely; a voting member
		// only if the started members left are a quorum. That is never so
		// for the serving member, the only one started, so etcd's further
		// check of the connected members, which only a connected (so
		// started) member's removal reaches, is never reached here.
		m := v.members[id]
		if m == nil || !m.IsLearner {
			if n, up := v.voting(id); up < quorum(n) {
				return errNotEnoughStarted
			}
		}
		if v.removed[id] || m == nil {
			return rpctypes.ErrGRPCMemberNotFound
		}
		return put(kv.StoredMember{Member: &pb.Member{ID: id}, Removed: true})
	})
}

// Update is MemberUpdate: it replaces the member's peer URLs, taken as
// given (etcd does not parse them here).
func (c *Cluster) Update(ctx context.Context, id uint64, peerURLs []string) ([]*pb.Member, error) {
	return c.change(ctx, func(v *view, put func(kv.StoredMember) error) error {
		m := v.members[id]
		if v.removed[id] || m == nil {
			return rpctypes.ErrGRPCMemberNotFound
		}
		for oid, o := range v.members {
			if oid == id {
				continue
			}
			for _, u := range o.PeerURLs {
				if slices.Contains(peerURLs, u) {
					return rpctypes.ErrGRPCPeerURLExist
				}
			}
		}
		m = proto.Clone(m).(*pb.Member)
		m.PeerURLs = peerURLs
		return put(kv.StoredMember{Member: m})
	})
}

// Promote is MemberPromote. A learner is ready when it has caught up with
// the leader; a member that never started has not, so etcd refuses it as
// not ready, and so does Strata.
func (c *Cluster) Promote(ctx context.Context, id uint64) ([]*pb.Member, error) {
	return c.change(ctx, func(v *view, put func(kv.StoredMember) error) error {
		m := v.members[id]
		if m == nil {
			return rpctypes.ErrGRPCMemberNotFound
		}
		if !started(m) {
			return rpctypes.ErrGRPCLearnerNotReady
		}
		// etcd's IsReadyToPromoteMember: the member counts as started.
		n, up := v.voting(0)
		if up+1 < quorum(n+1) {
			return errNotEnoughStarted
		}
		if !m.IsLearner {
			return rpctypes.ErrGRPCMemberNotLearner
		}
		m = proto.Clone(m).(*pb.Member)
		m.IsLearner = false
		return put(kv.StoredMember{Member: m})
	})
}

// parseURLs is etcd's types.NewURLs: every URL trimmed and parsed, http and
// https with a host:port and no path, or unix and unixs; sorted.
func parseURLs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errors.New("no valid URLs given")
	}
	out := make([]string, len(in))
	for i, s := range in {
		s = strings.TrimSpace(s)
		u, err := url.Parse(s)
		if err != nil {
			return nil, err
		}
		switch u.Scheme {
		case "http", "https":
			if _, _, err := net.SplitHostPort(u.Host); err != nil {
				return nil, fmt.Errorf("URL address does not have the form \"host:port\": %s", s)
			}
			if u.Path != "" {
				return nil, fmt.Errorf("URL must not contain a path: %s", s)
			}
		case "unix", "unixs":
		default:
			return nil, fmt.Errorf("URL scheme must be http, https, unix, or unixs: %s", s)
		}
		out[i] = u.String()
	}
	slices.Sort(out)
	return out, nil
}

// memberID is etcd's computeMemberID for a member added at now: the first
// eight bytes of the SHA-1 of its sorted peer URLs, the cluster name (empty
// for MemberAdd) and the time in seconds.
func memberID(sortedURLs []string, now time.Time) uint64 {
	b := []byte(strings.Join(sortedURLs, ""))
	b = fmt.Appendf(b, "%d", now.Unix())
	h := sha1.Sum(b)
	return binary.BigEndian.Uint64(h[:8])
}
