// Package watchpoll delivers etcd watch events from Strata's revisioned log.
//
// One Hub per process runs a poller that reads the log rows after the last
// revision it delivered (woken at once by a local commit, by a backend's
// kv.Notifier, or by a timer) and fans each revision out to every synced
// watcher. A watcher whose stream cannot take more falls back to a catch-up
// path that reads the log itself and rejoins the live fan-out when it is
// level again; it is cancelled only if its next revision was compacted away.
// The Stream type speaks etcd's Watch protocol: watch IDs, created and cancel
// responses, filters, prev_kv, progress notifications and progress requests.
//
// See DESIGN.md for the invariants that keep delivery exact.
package watchpoll
