package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/strata-db/strata/test/testserver"
)

// etcdctlAuthScenario manages users and roles, enables auth and uses it,
// with etcdctl's auth commands; run in order against a fresh etcd and a
// fresh Strata.
func etcdctlAuthScenario() []ctlStep {
	root := "--user=root:rootpw"
	alice := "--user=alice:apw"
	return []ctlStep{
		{name: "put before auth", args: []string{"put", "foo", "bar"}, want: "OK\n"},
		{name: "auth status fresh", args: []string{"auth", "status"}},
		{name: "auth status json", args: []string{"auth", "status", "-w", "json"}},
		{name: "auth enable without root", args: []string{"auth", "enable"}},
		{name: "user add alice", args: []string{"user", "add", "alice", "--new-user-password=apw"}},
		{name: "user add stdin", args: []string{"user", "add", "carol", "--interactive=false"}, stdin: "cpw\n"},
		{name: "user add no-password", args: []string{"user", "add", "bob", "--no-password"}},
		{name: "user add duplicate", args: []string{"user", "add", "alice:x"}},
		{name: "user get", args: []string{"user", "get", "alice"}},
		{name: "user get missing", args: []string{"user", "get", "nobody"}},
		{name: "user list", args: []string{"user", "list"}},
		{name: "user list json", args: []string{"user", "list", "-w", "json"}},
		{name: "role add", args: []string{"role", "add", "reader"}, want: "Role reader created\n"},
		{name: "role add duplicate", args: []string{"role", "add", "reader"}},
		{name: "grant key", args: []string{"role", "grant-permission", "reader", "read", "foo"}},
		{name: "grant prefix", args: []string{"role", "grant-permission", "reader", "readwrite", "dir/", "--prefix"}},
		{name: "grant range", args: []string{"role", "grant-permission", "reader", "write", "a", "c"}},
		{name: "grant from-key", args: []string{"role", "grant-permission", "reader", "read", "zz", "--from-key"}},
		{name: "grant bad type", args: []string{"role", "grant-permission", "reader", "all", "k"}},
		{name: "grant missing role", args: []string{"role", "grant-permission", "nobody", "read", "k"}},
		{name: "role get", args: []string{"role", "get", "reader"}},
		{name: "role get json", args: []string{"role", "get", "reader", "-w", "json"}},
		{name: "role get root missing", args: []string{"role", "get", "root"}},
		{name: "role list", args: []string{"role", "list"}},
		{name: "revoke range", args: []string{"role", "revoke-permission", "reader", "a", "c"}},
		{name: "revoke missing", args: []string{"role", "revoke-permission", "reader", "nope"}},
		{name: "role get after revoke", args: []string{"role", "get", "reader"}},
		{name: "grant role", args: []string{"user", "grant-role", "alice", "reader"}},
		{name: "grant role missing", args: []string{"user", "grant-role", "alice", "nobody"}},
		{name: "user get detail", args: []string{"user", "get", "alice", "--detail"}},
		{name: "user get json", args: []string{"user", "get", "alice", "-w", "json"}},
		{name: "auth status before enable", args: []string{"auth", "status"}},
		{name: "user add root", args: []string{"user", "add", "root:rootpw"}, want: "User root created\n"},
		// etcdctl adds the root role and grants it to root when it is missing
		// (and says nothing of it).
		{name: "auth enable", args: []string{"auth", "enable"}, want: "Authentication Enabled\n"},
		{name: "role get root", args: []string{"role", "get", "root", root}},
		{name: "auth status enabled", args: []string{"auth", "status"}},
		{name: "auth status as root", args: []string{"auth", "status", root, "-w", "json"}},
		{name: "get no user", args: []string{"get", "foo"}},
		{name: "get as alice", args: []string{"get", "foo", alice}, want: "foo\nbar\n"},
		{name: "get as alice json", args: []string{"get", "foo", alice, "-w", "json"}},
		{name: "get denied", args: []string{"get", "other", alice}},
		{name: "put read-only", args: []string{"put", "foo", "x", alice}},
		{name: "put prefix", args: []string{"put", "dir/1", "x", alice}},
		{name: "get prefix", args: []string{"get", "dir/", "--prefix", alice}},
		{name: "del prefix", args: []string{"del", "dir/", "--prefix", alice}},
		{name: "bad password", args: []string{"get", "foo", "--user=alice:nope"}},
		{name: "unknown user", args: []string{"get", "foo", "--user=mallory:x"}},
		{name: "user list as alice", args: []string{"user", "list", alice}},
		{name: "user list as root", args: []string{"user", "list", root}},
		{name: "role get own", args: []string{"role", "get", "reader", alice}},
		{name: "user add as root", args: []string{"user", "add", "dave:dpw", root}},
		{name: "passwd", args: []string{"user", "passwd", "alice", "--interactive=false", root}, stdin: "apw2\n"},
		{name: "old password", args: []string{"get", "foo", alice}},
		{name: "new password", args: []string{"get", "foo", "--user=alice:apw2"}},
		{name: "delete root", args: []string{"user", "delete", "root", root}},
		{name: "revoke root role", args: []string{"user", "revoke-role", "root", "root", root}},
		{name: "revoke role", args: []string{"user", "revoke-role", "alice", "reader", root}},
		{name: "revoke role again", args: []string{"user", "revoke-role", "alice", "reader", root}},
		{name: "role delete", args: []string{"role", "delete", "reader", root}},
		{name: "user delete", args: []string{"user", "delete", "bob", root}},
		{name: "user delete missing", args: []string{"user", "delete", "bob", root}},
		{name: "compaction as alice", args: []string{"compaction", "2", "--user=alice:apw2"}},
		{name: "endpoint status no user", args: []string{"endpoint", "status"}},
		{name: "endpoint hashkv as alice", args: []string{"endpoint", "hashkv", "--user=alice:apw2"}},
		{name: "auth disable as alice", args: []string{"auth", "disable", "--user=alice:apw2"}},
		{name: "auth disable", args: []string{"auth", "disable", root}, want: "Authentication Disabled\n"},
		{name: "auth status disabled", args: []string{"auth", "status", "-w", "json"}},
		{name: "get after disable", args: []string{"get", "foo"}},
		{name: "user list end", args: []string{"user", "list"}},
		{name: "role list end", args: []string{"role", "list"}},
	}
}

// TestEtcdctlAuthMatchesEtcd runs etcdctlAuthScenario with a real etcdctl
// against a fresh embedded etcd and a fresh strata subprocess and requires
// the same output, exit code and error text once normalised.
func TestEtcdctlAuthMatchesEtcd(t *testing.T) {
	needEtcdctl(t)
	etcd := testserver.StartEtcd(t)
	var nStrata *normalizer
	if os.Getenv(selfCheckEnv) != "" {
		nStrata = newNormalizer(testserver.StartEtcd(t).Endpoint)
	} else {
		nStrata = newNormalizer(startStrata(t, freshDSN(t)).Addr)
	}
	nEtcd := newNormalizer(etcd.Endpoint)
	for _, step := range etcdctlAuthScenario() {
		want := nEtcd.result(nEtcd.run(t, step))
		got := nStrata.result(nStrata.run(t, step))
		if step.want != "" && want != step.want {
			t.Errorf("%s: etcdctl %s: etcd printed %q, the scenario expects %q", step.name, strings.Join(step.args, " "), want, step.want)
		}
		if got != want {
			t.Errorf("%s: etcdctl %s:\n--- etcd\n%s\n--- strata\n%s", step.name, strings.Join(step.args, " "), want, got)
		}
	}
}
