package diff

import (
	"os"
	"testing"

	"github.com/strata-db/strata/test/testserver"
)

// Backends lists the Strata backends the differential tests run against:
// every backend; Postgres and MySQL skip unless STRATA_TEST_POSTGRES or
// STRATA_TEST_MYSQL is set. With STRATA_DIFF_SELFCHECK set, a second etcd
// takes Strata's place under the name "etcd", which checks the harness
// itself: every test must pass in that mode.
func Backends() []string {
	if os.Getenv("STRATA_DIFF_SELFCHECK") != "" {
		return []string{"etcd"}
	}
	return testserver.Backends()
}

// ForEachBackend runs fn as a subtest per enabled backend, each with a fresh
// etcd and a fresh Strata server, both at revision 1.
func ForEachBackend(t *testing.T, fn func(t *testing.T, p *Pair)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b) // skips, saying how to enable b
			fn(t, NewServerPair(t, b))
		})
	}
}

// NewServerPair starts etcd and Strata on backend and dials both.
func NewServerPair(t testing.TB, backend string) *Pair {
	t.Helper()
	e := testserver.StartEtcd(t)
	var s *testserver.Server
	if backend == "etcd" {
		s = testserver.StartEtcd(t)
		s.Name = "etcd-selfcheck"
	} else {
		s = testserver.StartStrata(t, testserver.Options{Backend: backend})
	}
	return NewPair(t, e.Name, e.Endpoint, s.Name, s.Endpoint)
}
