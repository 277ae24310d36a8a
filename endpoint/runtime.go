package endpoint

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The garbage collector's target of a Strata server, unless GOGC is set:
// 200 (the heap may grow to three times what is live) while the live heap
// is under smallHeap, Go's default 100 above it, and 75 above largeHeap. gRPC allocates some 10 KB
// per request; with the default target the collector took about an eighth
// of the server's CPU under strata-bench's txn load, and 200 gave that
// back. Above smallHeap the extra memory would grow with the data (the
// keys a SQLite store keeps, watchers), so the server goes back to the
// default: after strata-bench's whole run, with 100k keys, 1,000 watchers
// and 1,000 leases, the RSS was 168-172 MiB (with a 48 MiB threshold
// 203, with 200 always 255, with 100 always 165).
//
// A SQLite store keeps the latest values in memory (up to 96 MiB, see
// drivers/sqlstore/values.go): with some 200k keys after that whole run the
// live heap was 67 MiB, and 100 let the RSS reach 213 MiB; 75 gave 196.
// A heap that large holds mostly data, not garbage of the load, and 75 of
// it still leaves the collector 48 MiB or more between cycles.
const (
	smallHeapGCPercent = 200
	defaultGCPercent   = 100
	largeHeapGCPercent = 75
	smallHeap          = 24 << 20
	largeHeap          = 64 << 20
	gcTuneInterval     = 5 * time.Second
)

// TuneGC applies that target until ctx ends, checking the live heap every
// few seconds; it does nothing if the GOGC environment variable chooses.
// A server process calls it once at start.
func TuneGC(ctx context.Context) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := -1
	tune := func() {
		metrics.Read(sample)
		want := defaultGCPercent
		if sample[0].Value.Kind() == metrics.KindUint64 {
			want = gcPercentFor(sample[0].Value.Uint64())
		}
		if want != current {
			debug.SetGCPercent(want)
			current = want
		}
	}
	tune()
	go func() {
		t := time.NewTicker(gcTuneInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				tune()
			}
		}
	}()
}

// gcPercentFor is the target for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	switch {
	case live < smallHeap:
		return smallHeapGCPercent
	case live < largeHeap:
		return defaultGCPercent
	}
	return largeHeapGCPercent
}
