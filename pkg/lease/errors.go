package lease

import "errors"

// ErrNoClock is returned by New for a backend that cannot keep lease expiry
// (does not implement kv.LeaseClock).
var ErrNoClock = errors.New("lease: backend keeps no lease clock")
