// Package multi tests several Strata servers sharing one PostgreSQL or
// MySQL database: revisions gapless and in order on every watcher, no
// acknowledged write lost or duplicated, compare-and-swap safe across
// servers, reads after an acknowledged write see it on every server, and
// a commit on one server wakes the watchers of the others quickly.
//
// The tests run when STRATA_TEST_POSTGRES / STRATA_TEST_MYSQL are set and
// skip otherwise.
package multi
