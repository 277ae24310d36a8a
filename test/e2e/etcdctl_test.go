package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/strata-db/strata/test/testserver"
)

// maxStrataTimeouts is how many etcdctl commands may time out against strata
// before the scenario stops: a hung server should cost seconds, not minutes.
const maxStrataTimeouts = 2

// selfCheckEnv, when set, makes TestEtcdctlMatchesEtcd compare etcd with a
// second etcd: it must pass, or the normalisation hides too little (check
// this after changing the scenario or the etcdctl version).
const selfCheckEnv = "STRATA_E2E_SELFCHECK"

// TestEtcdctlMatchesEtcd runs every step of etcdctlScenario with a real
// etcdctl against a fresh embedded etcd and a fresh strata subprocess and
// requires the same output, exit code and error text once the fields that
// must differ are normalised.
func TestEtcdctlMatchesEtcd(t *testing.T) {
	needEtcdctl(t)
	etcd := testserver.StartEtcd(t)
	var nStrata *normalizer
	if os.Getenv(selfCheckEnv) != "" {
		nStrata = newNormalizer(testserver.StartEtcd(t).Endpoint)
	} else {
		nStrata = newNormalizer(startStrata(t, freshDSN(t)).Addr)
	}
	nEtcd := newNormalizer(etcd.Endpoint)
	timeouts := 0
	for _, step := range etcdctlScenario() {
		want := nEtcd.result(nEtcd.run(t, step))
		got := nStrata.result(nStrata.run(t, step))
		if strings.Contains(got, "context deadline exceeded") && !strings.Contains(want, "context deadline exceeded") {
			if timeouts++; timeouts >= maxStrataTimeouts {
				t.Fatalf("%s: strata timed out on %d commands; giving up on the scenario:\n%s", step.name, timeouts, got)
			}
		}
		if step.want != "" && want != step.want {
			t.Errorf("%s: etcdctl %s: etcd printed %q, the scenario expects %q", step.name, strings.Join(step.args, " "), want, step.want)
		}
		if got != want {
			t.Errorf("%s: etcdctl %s:\n--- etcd\n%s\n--- strata\n%s", step.name, strings.Join(step.args, " "), want, got)
		}
	}
}

// run runs step against the normalizer's server, filling in and recording
// lease IDs.
func (n *normalizer) run(t *testing.T, step ctlStep) ctlResult {
	t.Helper()
	args := make([]string, len(step.args))
	for i, a := range step.args {
		for name, id := range n.vars {
			a = strings.ReplaceAll(a, "{"+name+"}", id)
		}
		args[i] = a
	}
	r := runEtcdctlFor(t, step.stream, n.endpoint, step.stdin, args...)
	if step.grant != "" {
		id, err := grantedLease(r.Stdout)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		n.vars[step.grant] = id
		n.lease(id)
	}
	return r
}

// TestEtcdctlEndpointStatusVersion checks what normalisation hides: strata
// reports the emulated etcd version (default 3.7.3, or the flag's value),
// a non-zero member ID that is also the leader, and a positive db size.
func TestEtcdctlEndpointStatusVersion(t *testing.T) {
	needEtcdctl(t)
	for _, tc := range []struct {
		name, version string
		args          []string
	}{
		{name: "default", version: "3.7.3"},
		{name: "flag", version: "3.6.5", args: []string{"--emulated-etcd-version", "3.6.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startStrata(t, freshDSN(t), tc.args...)
			r := runEtcdctl(t, p.Addr, "", "endpoint", "status", "-w", "json")
			if r.Code != 0 {
				t.Fatalf("endpoint status: %s", r)
			}
			var st []struct {
				Endpoint string
				Status   struct {
					Header struct {
						MemberID uint64 `json:"member_id"`
						Revision int64
					}
					Version string
					DBSize  int64
					Leader  uint64
				}
			}
			if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil || len(st) != 1 {
				t.Fatalf("endpoint status -w json: %v: %q", err, r.Stdout)
			}
			s := st[0].Status
			if s.Version != tc.version {
				t.Errorf("version = %q, want %q", s.Version, tc.version)
			}
			if s.Header.MemberID == 0 || s.Leader != s.Header.MemberID {
				t.Errorf("member_id = %d, leader = %d: want the same non-zero ID", s.Header.MemberID, s.Leader)
			}
			if s.DBSize <= 0 {
				t.Errorf("dbSize = %d, want > 0", s.DBSize)
			}
			if s.Header.Revision != 1 {
				t.Errorf("fresh store at revision %d, want 1", s.Header.Revision)
			}
		})
	}
}
