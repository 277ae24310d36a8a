// Package kv is the leaf vocabulary shared by Strata's engine, drivers and
// watch poller: key ranges, log rows, leases, the Backend contract a storage
// driver fulfils, and the sentinel errors. It imports nothing of Strata's.
package kv
