package diff

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/status"
)

// Defaults of the random differential test; STRATA_DIFF_SEED (a number, or
// "random") and STRATA_DIFF_OPS change them.
const (
	defaultSeed = 20261121
	defaultOps  = 2000
	// history is how many recent ops a failure report shows.
	history = 8
)

func TestRandomOps(t *testing.T) {
	seed, n := randomSettings(t)
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		g := NewGenerator(seed, DefaultKeys)
		var recent []string
		outcomes := map[string]int{}
		for i := range n {
			op := g.Next()
			recent = append(recent, op.Name)
			if len(recent) > history {
				recent = recent[1:]
			}
			e, s := p.Run(op.Call)
			if oracleBroken(e.Err) {
				t.Fatalf("op %d: oracle failed: %v (seed %d)", i, e.Err, seed)
			}
			if d := Mismatch(e, s); d != "" {
				t.Fatalf("op %d of %d differs; reproduce with STRATA_DIFF_SEED=%d STRATA_DIFF_OPS=%d\nlast ops:\n  %s\n%s",
					i, n, seed, i+1, joinLines(recent), d)
			}
			g.Observe(e)
			outcomes[outcome(op, e)]++
		}
		t.Logf("outcomes: %v; ended at revision %d, compacted %d", outcomes, g.Revision(), g.Compacted())
		checkHistory(t, p, g, seed)
	})
}

// checkHistory compares the whole key space at every revision still
// readable, so that differences no op happened to read still show.
func checkHistory(t *testing.T, p *Pair, g *Generator, seed uint64) {
	t.Helper()
	for rev := max(g.Compacted(), 1); rev <= g.Revision(); rev++ {
		e, s := p.Run(RangeOp("", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev}).Call)
		if d := Mismatch(e, s); d != "" {
			t.Fatalf("full range at revision %d differs after the random ops (seed %d): %s", rev, seed, d)
		}
	}
}

func randomSettings(t *testing.T) (seed uint64, ops int) {
	seed, ops = defaultSeed, defaultOps
	switch v := os.Getenv("STRATA_DIFF_SEED"); v {
	case "":
	case "random":
		seed = uint64(time.Now().UnixNano())
	default:
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("STRATA_DIFF_SEED=%q: %v", v, err)
		}
		seed = s
	}
	if v := os.Getenv("STRATA_DIFF_OPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("STRATA_DIFF_OPS=%q: want a count", v)
		}
		ops = n
	}
	t.Logf("random ops: seed %d, %d ops (STRATA_DIFF_SEED, STRATA_DIFF_OPS)", seed, ops)
	return seed, ops
}

// outcome names an op's kind and how etcd answered it, for the summary.
func outcome(op Op, r Result) string {
	kind, _, _ := strings.Cut(op.Name, "{")
	kind = strings.TrimPrefix(kind, "*etcdserverpb.")
	if r.Err != nil {
		return kind + ":" + status.Convert(r.Err).Message()
	}
	if t, ok := r.Resp.(*pb.TxnResponse); ok && !t.Succeeded {
		return kind + ":else"
	}
	return kind + ":ok"
}

func joinLines(s []string) string {
	out := ""
	for i, l := range s {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}
