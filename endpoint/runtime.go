package endpoint

import (
	"os"
	"runtime/debug"
)

// DefaultGCPercent is the garbage collector's target of a Strata server
// unless GOGC is set: the heap may grow to three times what is live
// instead of twice. Under strata-bench's txn load the server's CPU per
// operation fell by about a seventh (gRPC allocates some 10 KB per call),
// and the memory workload (100k keys, 1,000 watchers, 1,000 leases) stays
// well under 200 MB of RSS (docs/BENCHMARKS.md).
const DefaultGCPercent = 200

// SetGCPercent applies DefaultGCPercent unless the GOGC environment
// variable chooses. A server process calls it once at start.
func SetGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
}
