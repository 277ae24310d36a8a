package diff

import (
	"testing"
)

// TestRangeStream sends every Range case through KV.RangeStream (etcd 3.7),
// including the sorts and filters etcd refuses there.
func TestRangeStream(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, SampleData...)
		for _, c := range append(rangeCases(), sortCases()...) {
			op := RangeStreamOp(c.name, c.req)
			t.Run(c.name, func(t *testing.T) { p.Check(t, "RangeStream "+describe(c.req), op.Call) })
		}
	})
}
