package e2e

import "time"

// watchFor is the longest a watch step listens; it normally stops as soon
// as the historical events have arrived (see waitQuiet).
const watchFor = 5 * time.Second

// ctlStep is one etcdctl invocation of the differential scenario.
type ctlStep struct {
	name  string
	args  []string
	stdin string // for txn -i
	// grant names the lease this step grants: the ID it prints is kept
	// (per server) and replaces "{name}" in later steps' args.
	grant string
	// stream, if set, marks a command that does not end by itself (watch):
	// it is interrupted once its output is quiet, or after stream.
	stream time.Duration
	// want, if set, is the normalised output (ctlResult.String) both servers
	// must print; it pins the scenario to what the etcd docs describe.
	want string
}

// txnDocsInput is the interactive transaction from etcd's documentation
// (etcdctl/README.md, TXN): compares, blank line, success ops, blank line,
// failure ops, blank line.
const txnDocsInput = `mod("key1") > "0"

put key1 "overwrote-key1"

put key1 "created-key1"
put key2 "some extra key"

`

// txnValueInput compares on value and version and deletes on success.
const txnValueInput = `value("key1") = "created-key1"
version("key2") = "1"

put key1 "swapped"
del key2
get key1

get key1

`

// txnRangeInput uses a range compare with a prefix-style end.
const txnRangeInput = `create("foo") > "1"
mod("zoo") < "1000"

get foo --prefix --limit=2
put txn-put from-txn

del foo

`

// etcdctlScenario is run in order against a fresh etcd and a fresh Strata;
// both start at revision 1, so revisions in the outputs must agree.
func etcdctlScenario() []ctlStep {
	return []ctlStep{
		{name: "put", args: []string{"put", "foo", "bar"}, want: "OK\n"},
		{name: "put prev-kv", args: []string{"put", "foo", "bar2", "--prev-kv"}, want: "OK\nfoo\nbar\n"},
		{name: "put prev-kv new key", args: []string{"put", "foo1", "v1", "--prev-kv"}, want: "OK\n"},
		{name: "put foo2", args: []string{"put", "foo2", "v2"}},
		{name: "put foo3", args: []string{"put", "foo3", "v3"}},
		{name: "put zoo", args: []string{"put", "zoo", "z"}},
		{name: "put a", args: []string{"put", "a", "A"}},
		{name: "put empty value", args: []string{"put", "empty", ""}},
		{name: "put foo1 again", args: []string{"put", "foo1", "v1b"}},
		{name: "put prev-kv json", args: []string{"put", "foo2", "v2b", "--prev-kv", "-w", "json"}},
		{name: "put ignore-value", args: []string{"put", "foo3", "--ignore-value"}},
		{name: "put ignore-value missing key", args: []string{"put", "nokey", "--ignore-value"}},
		{name: "put ignore-lease", args: []string{"put", "foo3", "v3c", "--ignore-lease"}},

		{name: "get", args: []string{"get", "foo"}, want: "foo\nbar2\n"},
		{name: "get missing", args: []string{"get", "nokey"}, want: ""},
		{name: "get print-value-only", args: []string{"get", "foo", "--print-value-only"}, want: "bar2\n"},
		{name: "get empty value", args: []string{"get", "empty"}},
		{name: "get range", args: []string{"get", "foo", "foo3"}},
		{name: "get prefix", args: []string{"get", "foo", "--prefix"}},
		{name: "get prefix keys-only", args: []string{"get", "foo", "--prefix", "--keys-only"}},
		{name: "get from-key", args: []string{"get", "foo", "--from-key"}},
		{name: "get from-key empty", args: []string{"get", "", "--from-key", "--keys-only"}},
		{name: "get prefix limit", args: []string{"get", "foo", "--prefix", "--limit", "2"}},
		{name: "get prefix limit json", args: []string{"get", "foo", "--prefix", "--limit", "2", "-w", "json"}},
		{name: "get count-only", args: []string{"get", "foo", "--prefix", "--count-only", "-w", "fields"}},
		{name: "get rev 2", args: []string{"get", "foo", "--rev", "2"}, want: "foo\nbar\n"},
		{name: "get rev 1", args: []string{"get", "foo", "--rev", "1"}, want: ""},
		{name: "get prefix rev 4", args: []string{"get", "foo", "--prefix", "--rev", "4"}},
		{name: "get future rev", args: []string{"get", "foo", "--rev", "1000"}},
		{name: "sort modify descend", args: []string{"get", "foo", "--prefix", "--sort-by", "MODIFY", "--order", "DESCEND"}},
		{name: "sort create ascend", args: []string{"get", "foo", "--prefix", "--sort-by", "CREATE", "--order", "ASCEND"}},
		{name: "sort value descend", args: []string{"get", "", "--from-key", "--sort-by", "VALUE", "--order", "DESCEND"}},
		{name: "sort version", args: []string{"get", "foo", "--prefix", "--sort-by", "VERSION", "--order", "DESCEND", "--keys-only"}},
		{name: "sort key descend limit", args: []string{"get", "", "--from-key", "--sort-by", "KEY", "--order", "DESCEND", "--limit", "3"}},
		{name: "order only", args: []string{"get", "foo", "--prefix", "--order", "DESCEND", "--keys-only"}},
		{name: "min-mod-rev", args: []string{"get", "", "--from-key", "--min-mod-rev", "6", "--keys-only"}},
		{name: "max-create-rev", args: []string{"get", "", "--from-key", "--max-create-rev", "4", "--keys-only"}},
		{name: "get json", args: []string{"get", "foo", "-w", "json"}},
		{name: "get prefix json", args: []string{"get", "foo", "--prefix", "-w", "json"}},
		{name: "get missing json", args: []string{"get", "nokey", "-w", "json"}},
		{name: "get fields", args: []string{"get", "foo", "-w", "fields"}},
		{name: "get serializable", args: []string{"get", "foo", "--consistency", "s"}},

		{name: "watch history", args: []string{"watch", "foo", "--prefix", "--rev", "2"}, stream: watchFor},
		{name: "watch history prev-kv", args: []string{"watch", "foo", "--rev", "2", "--prev-kv"}, stream: watchFor},
		{name: "watch history json", args: []string{"watch", "foo1", "--rev", "1", "-w", "json"}, stream: watchFor},
		{name: "watch range", args: []string{"watch", "a", "foo1", "--rev", "1"}, stream: watchFor},

		{name: "txn docs failure", args: []string{"txn", "-i"}, stdin: txnDocsInput},
		{name: "txn docs success", args: []string{"txn", "-i"}, stdin: txnDocsInput},
		{name: "get after txn", args: []string{"get", "key", "--prefix"}},
		{name: "txn value compare", args: []string{"txn", "-i"}, stdin: txnValueInput},
		{name: "txn value compare json", args: []string{"txn", "-i", "-w", "json"}, stdin: txnValueInput},
		{name: "txn range", args: []string{"txn", "-i"}, stdin: txnRangeInput},

		{name: "del", args: []string{"del", "foo1"}, want: "1\n"},
		{name: "del missing", args: []string{"del", "foo1"}, want: "0\n"},
		{name: "del prev-kv", args: []string{"del", "zoo", "--prev-kv"}, want: "1\nzoo\nz\n"},
		{name: "put for prefix", args: []string{"put", "pfx/a", "1"}},
		{name: "put for prefix 2", args: []string{"put", "pfx/b", "2"}},
		{name: "put for prefix 3", args: []string{"put", "pfx0", "3"}},
		{name: "del prefix prev-kv", args: []string{"del", "pfx/", "--prefix", "--prev-kv"}, want: "2\npfx/a\n1\npfx/b\n2\n"},
		{name: "del range", args: []string{"del", "a", "f", "--range"}},
		{name: "del json", args: []string{"del", "pfx0", "-w", "json"}},

		{name: "lease grant", args: []string{"lease", "grant", "60"}, grant: "l1"},
		{name: "lease grant json", args: []string{"lease", "grant", "120", "-w", "json"}, grant: "l2"},
		{name: "lease grant min ttl", args: []string{"lease", "grant", "1"}, grant: "l3"},
		{name: "put with lease", args: []string{"put", "leased", "v", "--lease={l1}"}, want: "OK\n"},
		{name: "put with lease 2", args: []string{"put", "leased2", "v", "--lease={l1}"}},
		{name: "put ignore-lease keeps lease", args: []string{"put", "leased2", "w", "--ignore-lease"}},
		{name: "get leased json", args: []string{"get", "leased", "--prefix", "-w", "json"}},
		{name: "put unknown lease", args: []string{"put", "k", "v", "--lease=1234abcd"}},
		{name: "lease list", args: []string{"lease", "list"}},
		{name: "lease timetolive", args: []string{"lease", "timetolive", "{l1}"}},
		{name: "lease timetolive keys", args: []string{"lease", "timetolive", "{l1}", "--keys"}},
		{name: "lease timetolive json", args: []string{"lease", "timetolive", "{l1}", "--keys", "-w", "json"}},
		{name: "lease keep-alive once", args: []string{"lease", "keep-alive", "--once", "{l1}"}},
		{name: "lease revoke", args: []string{"lease", "revoke", "{l1}"}},
		{name: "get after revoke", args: []string{"get", "leased", "--prefix"}, want: ""},
		{name: "lease timetolive revoked", args: []string{"lease", "timetolive", "{l1}"}},
		{name: "lease revoke unknown", args: []string{"lease", "revoke", "1234abcd"}},
		{name: "lease keep-alive unknown", args: []string{"lease", "keep-alive", "--once", "1234abcd"}},
		{name: "lease revoke 2", args: []string{"lease", "revoke", "{l2}"}},
		{name: "lease revoke 3", args: []string{"lease", "revoke", "{l3}"}},
		{name: "lock", args: []string{"lock", "mylock", "--", "echo", "locked"}, want: "locked\n"},
		{name: "get after lock", args: []string{"get", "mylock", "--prefix"}, want: ""},
		{name: "get all after del", args: []string{"get", "", "--prefix"}},

		{name: "compaction", args: []string{"compaction", "5"}, want: "compacted revision 5\n"},
		{name: "get compacted rev", args: []string{"get", "foo", "--rev", "3"}},
		{name: "get at compact rev", args: []string{"get", "foo", "--rev", "5"}},
		{name: "compaction again", args: []string{"compaction", "5"}},
		{name: "compaction physical", args: []string{"compaction", "7", "--physical"}, want: "compacted revision 7\n"},
		{name: "compaction future", args: []string{"compaction", "10000"}},
		{name: "watch compacted", args: []string{"watch", "foo", "--rev", "2"}, stream: watchFor},
		{name: "get after compaction json", args: []string{"get", "", "--from-key", "-w", "json"}},

		{name: "endpoint status", args: []string{"endpoint", "status"}},
		{name: "endpoint status json", args: []string{"endpoint", "status", "-w", "json"}},
		{name: "endpoint health", args: []string{"endpoint", "health"}},
		{name: "endpoint health json", args: []string{"endpoint", "health", "-w", "json"}},
		{name: "member list", args: []string{"member", "list"}},
		{name: "member list json", args: []string{"member", "list", "-w", "json"}},
		{name: "endpoint hashkv", args: []string{"endpoint", "hashkv"}},
		{name: "endpoint hashkv json", args: []string{"endpoint", "hashkv", "-w", "json"}},
		{name: "defrag", args: []string{"defrag"}},
		{name: "alarm list", args: []string{"alarm", "list"}},
		{name: "alarm list json", args: []string{"alarm", "list", "-w", "json"}},
	}
}
