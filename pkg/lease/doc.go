// Package lease is Strata's lessor: etcd's leases (grant, revoke, keepalive,
// time-to-live, list) over the engine, and their expiry.
//
// A lease and its attached keys are engine state: LeaseGrant and LeaseRevoke
// are deterministic operations applied at a revision by pkg/mvcc (the lessor
// picks the ID before it submits the grant). Expiry is wall-clock state, kept
// beside it in the database through the backend's kv.LeaseClock: a keepalive
// received by any process writes the lease's new expiry, so every process
// sees it.
//
// Exactly one process per database expires leases: the one holding the
// expirer lock (kv.Locker; a backend without it has one process, which
// always holds it). On taking the lock it renews every lease, as a new etcd
// leader does, and loads them into a heap ordered by expiry. It sleeps until
// the earliest expiry, confirms in the database that the lease has expired
// (another process may have renewed it), and revokes it through the engine,
// so expiry deletes the keys in one revision exactly as LeaseRevoke does. A
// periodic indexed query for due leases catches the leases other processes
// granted. A lease that the database says has expired can no longer be
// renewed, so a revoke never races a successful keepalive.
package lease
