package testserver

import (
	"testing"

	"github.com/strata-db/strata/test/testdb"
)

// The environment variables that enable the backends of shared databases.
const (
	EnvPostgres = testdb.EnvPostgres
	EnvMySQL    = testdb.EnvMySQL
)

// Backends lists every Strata backend. Run a suite over all of them: a
// backend that is not enabled skips (see RequireBackend), so the test
// output says how to enable it.
func Backends() []string { return testdb.Backends() }

// EnabledBackends lists the backends this environment enables.
func EnabledBackends() []string { return testdb.EnabledBackends() }

// RequireBackend skips t, saying how to enable backend, when it is not
// enabled. When it is enabled and its server is unreachable, the test
// fails where it creates its database.
func RequireBackend(t testing.TB, backend string) {
	t.Helper()
	testdb.RequireBackend(t, backend)
}

// FreshDSN returns the DSN of a new, empty database on backend, removed
// when the test ends. It skips t if backend is not enabled.
func FreshDSN(t testing.TB, backend string) string {
	t.Helper()
	return testdb.FreshDSN(t, backend)
}
