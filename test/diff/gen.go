package diff

import (
	"context"
	"fmt"
	"math/rand/v2"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Generator makes a reproducible stream of random KV requests over a small
// key space, so that keys collide, versions climb and ranges, sorts and
// txn compares hit interesting cases. It tracks the current and compacted
// revision from the oracle's answers (see Observe) to aim historical reads
// and compactions around them.
type Generator struct {
	r         *rand.Rand
	keys      int
	depth     int   // current txn nesting while building a txn
	rev       int64 // latest revision etcd reported
	compacted int64 // latest successful compaction
	compactAt int64 // revision of the compaction just generated, or 0
}

// DefaultKeys is the key space of the random generator: k00..k49.
const DefaultKeys = 50

// NewGenerator returns a generator seeded with seed, over keys keys.
func NewGenerator(seed uint64, keys int) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), keys: keys, rev: 1}
}

// Next returns the next request.
func (g *Generator) Next() Op {
	m := g.NextRequest()
	return Op{Name: fmt.Sprintf("%T%s", m, describe(m)), Call: kvCall(m)}
}

// NextRequest returns the next request itself: a Put, Range, DeleteRange,
// Txn or Compaction request.
func (g *Generator) NextRequest() proto.Message {
	g.compactAt = 0
	var m proto.Message
	switch n := g.r.IntN(100); {
	case n < 30:
		m = g.put()
	case n < 60:
		m = g.rangeReq()
	case n < 70:
		m = g.deleteReq()
	case n < 97:
		m = g.txn()
	default:
		m = g.compact()
	}
	return m
}

// Observe records etcd's answer to the last request from Next.
func (g *Generator) Observe(r Result) {
	if h, ok := r.Resp.(interface{ GetHeader() *pb.ResponseHeader }); ok && h.GetHeader() != nil {
		g.rev = max(g.rev, h.GetHeader().GetRevision())
	}
	if g.compactAt != 0 && r.Err == nil {
		g.compacted = g.compactAt
	}
}

// Revision and Compacted are the revisions the generator has observed.
func (g *Generator) Revision() int64  { return g.rev }
func (g *Generator) Compacted() int64 { return g.compacted }

func kvCall(m proto.Message) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		switch r := m.(type) {
		case *pb.PutRequest:
			return s.KV.Put(ctx, r)
		case *pb.RangeRequest:
			return s.KV.Range(ctx, r)
		case *pb.DeleteRangeRequest:
			return s.KV.DeleteRange(ctx, r)
		case *pb.TxnRequest:
			return s.KV.Txn(ctx, r)
		case *pb.CompactionRequest:
			return s.KV.Compact(ctx, r)
		}
		return nil, fmt.Errorf("diff: no call for %T", m)
	}
}

func (g *Generator) chance(pct int) bool { return g.r.IntN(100) < pct }

func (g *Generator) key() []byte { return fmt.Appendf(nil, "k%02d", g.r.IntN(g.keys)) }

func (g *Generator) value() []byte { return fmt.Appendf(nil, "v%d", g.r.IntN(20)) }

// interval returns [key, range_end) in one of the shapes etcd clients use:
// one key, a span (possibly inverted), a prefix, from-key, or everything.
func (g *Generator) interval() (key, end []byte) {
	switch n := g.r.IntN(100); {
	case n < 40:
		return g.key(), nil
	case n < 70:
		return g.key(), g.key()
	case n < 80:
		p := fmt.Appendf(nil, "k%d", g.r.IntN(5))
		return p, fmt.Appendf(nil, "k%d", int(p[1]-'0')+1)
	case n < 90:
		return g.key(), []byte{0}
	default:
		return []byte{0}, []byte{0}
	}
}

// revision picks a read or compare revision around the live window,
// including one below the compaction and ones in the future.
func (g *Generator) revision() int64 {
	lo := g.compacted - 1
	return lo + g.r.Int64N(g.rev-lo+3)
}

func (g *Generator) put() *pb.PutRequest {
	r := &pb.PutRequest{Key: g.key(), Value: g.value(), PrevKv: g.chance(50)}
	if g.chance(5) {
		r.Value, r.IgnoreValue = nil, true
	}
	return r
}

func (g *Generator) deleteReq() *pb.DeleteRangeRequest {
	k, e := g.interval()
	return &pb.DeleteRangeRequest{Key: k, RangeEnd: e, PrevKv: g.chance(50)}
}

func (g *Generator) compact() *pb.CompactionRequest {
	g.compactAt = g.compacted - 1 + g.r.Int64N(g.rev-g.compacted+3)
	return &pb.CompactionRequest{Revision: g.compactAt, Physical: g.chance(30)}
}
