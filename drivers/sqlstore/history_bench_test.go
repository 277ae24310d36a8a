package sqlstore

import (
	"fmt"
	"testing"
)

// BenchmarkHistoryLive looks up the live row of random keys among 100k,
// as each Put of the put workload does (once to read the key it replaces,
// once to add its row).
func BenchmarkHistoryLive(b *testing.B) {
	h := newHistory(valueCacheBytes)
	const keys = 100_000
	names := make([][]byte, keys)
	for i := range names {
		names[i] = fmt.Appendf(nil, "/registry/pods/default/key-%06d", i)
		h.add([]logRow{put(int64(i+1), string(names[i]), "v")}, nil)
	}
	h.commit(keys, 0, false)
	i := 0
	for b.Loop() {
		i = (i + 7919) % keys
		if _, _, ok := h.live(names[i], keys); !ok {
			b.Fatal("key not found")
		}
	}
}
