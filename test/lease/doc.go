// Package lease tests Strata's leases as clients use them: the
// clientv3/concurrency Session, Election and Mutex (run against embedded
// etcd too, which checks the tests themselves), and leases that survive a
// restart of Strata and still expire afterwards.
package lease
