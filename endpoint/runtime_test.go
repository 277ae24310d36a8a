package endpoint

import (
	"context"
	"os"
	"runtime/debug"
	"testing"
)

func TestGCPercentFollowsTheLiveHeap(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{{0, 200}, {smallHeap - 1, 200}, {smallHeap, 100}, {largeHeap - 1, 100}, {largeHeap, 75}, {1 << 30, 75}} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("live heap %d: GOGC %d, want %d", c.live, got, c.want)
		}
	}
}

// With GOGC in the environment, TuneGC leaves the collector alone; without
// it, a test's small heap gets 200.
func TestTuneGCHonoursGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	TuneGC(ctx)
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GOGC=150 set: percent %d after TuneGC, want 150", got)
	}
	os.Unsetenv("GOGC") // t.Setenv restores it
	TuneGC(ctx)
	if got := debug.SetGCPercent(100); got != 200 {
		t.Fatalf("GOGC unset, small heap: percent %d after TuneGC, want 200", got)
	}
}
