package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// normalizer rewrites etcdctl output so that what must differ between two
// servers (endpoints, cluster and member IDs, raft terms and indexes, db
// sizes, version strings, timings) compares equal, and nothing else does.
// IDs become symbols numbered in order of appearance, so "the leader is
// this member" still compares. One normalizer per server.
type normalizer struct {
	endpoint string
	vars     map[string]string // step variables: lease name -> hex ID
	leases   map[string]string // lease ID, hex and decimal -> symbol
	ids      map[string]string // "kind/value" -> symbol
	counts   map[string]int    // kind -> symbols handed out
}

func newNormalizer(endpoint string) *normalizer {
	return &normalizer{
		endpoint: endpoint, vars: map[string]string{}, leases: map[string]string{},
		ids: map[string]string{}, counts: map[string]int{},
	}
}

// JSON fields masked by kind: an ID symbol or a fixed placeholder.
var (
	jsonIDFields = map[string]string{
		"cluster_id": "cluster", "member_id": "member", "leader": "member", "ID": "member",
	}
	jsonMasked = map[string]string{
		"raft_term": "<TERM>", "raftTerm": "<TERM>", "raftIndex": "<INDEX>", "raftAppliedIndex": "<INDEX>",
		"dbSize": "<SIZE>", "dbSizeInUse": "<SIZE>", "dbSizeQuota": "<SIZE>",
		"version": "<VERSION>", "storageVersion": "<VERSION>",
		"clientURLs": "<URLS>", "took": "<DURATION>", "hash": "<HASH>",
		"name": "<NAME>", // a member's name is configuration (etcd --name)
	}
	// jsonDropped fields are removed: a single Strata server has no peers,
	// so etcd's peerURLs may be absent.
	jsonDropped  = map[string]bool{"peerURLs": true}
	fieldsIDs    = map[string]string{`"ClusterID"`: "cluster", `"MemberID"`: "member"}
	fieldsMasked = map[string]string{`"RaftTerm"`: "<TERM>"}
)

// result normalises one etcdctl result to a comparable string.
func (n *normalizer) result(r ctlResult) string {
	return ctlResult{Stdout: n.stdout(r.Stdout), Stderr: n.stderr(r.Stderr), Code: r.Code}.String()
}

func (n *normalizer) stdout(s string) string {
	s = strings.ReplaceAll(s, n.endpoint, "<EP>")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = n.line(l)
	}
	return strings.Join(lines, "\n")
}

// stderr drops the client library's JSON log lines (they carry addresses
// and timestamps) and keeps what etcdctl itself prints, such as "Error: ...".
func (n *normalizer) stderr(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l == "" || strings.HasPrefix(l, `{"level":`) {
			continue
		}
		keep = append(keep, took.ReplaceAllString(strings.ReplaceAll(l, n.endpoint, "<EP>"), "took <DURATION>"))
	}
	if len(keep) == 0 {
		return ""
	}
	return strings.Join(keep, "\n") + "\n"
}

func (n *normalizer) line(l string) string {
	if strings.HasPrefix(l, "{") || strings.HasPrefix(l, "[") {
		return n.jsonLine(l)
	}
	l = hexWord.ReplaceAllStringFunc(l, func(w string) string {
		if sym, ok := n.leases[w]; ok {
			return sym
		}
		return w
	})
	l = remainingTTL.ReplaceAllString(l, "remaining(<TTL>)")
	l = took.ReplaceAllString(l, "took <DURATION>")
	l = attachedKeys.ReplaceAllStringFunc(l, func(m string) string {
		keys := strings.Fields(attachedKeys.FindStringSubmatch(m)[1])
		sort.Strings(keys)
		return "attached keys([" + strings.Join(keys, " ") + "])"
	})
	switch {
	case strings.HasPrefix(l, `"`) && strings.Contains(l, `" : `):
		return n.fieldsLine(l)
	case strings.HasPrefix(l, "<EP>, "):
		return n.statusLine(l)
	case strings.HasPrefix(l, "<EP> is healthy: "):
		if i := strings.Index(l, "took = "); i >= 0 {
			return l[:i] + "took = <DURATION>"
		}
	case strings.Count(l, ", ") == 5 && strings.Contains(l, "://"):
		return n.memberLine(l)
	}
	return l
}

// jsonLine masks a -w json document; a line that is not JSON is kept.
func (n *normalizer) jsonLine(l string) string {
	dec := json.NewDecoder(strings.NewReader(l))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return l
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(n.jsonValue("", v)); err != nil {
		return l
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func (n *normalizer) jsonValue(key string, v any) any {
	if num, ok := v.(json.Number); ok && n.leases[num.String()] != "" {
		return n.leases[num.String()]
	}
	if num, ok := v.(json.Number); ok && key == "ttl" {
		if ttl, err := num.Int64(); err == nil && ttl > 0 {
			return "<TTL>" // counts down; only its sign is deterministic
		}
	}
	if kind, ok := jsonIDFields[key]; ok {
		return n.id(kind, fmt.Sprint(v))
	}
	if mask, ok := jsonMasked[key]; ok {
		if _, isNum := v.(json.Number); key != "version" || !isNum {
			return mask // a kv's "version" is its write count, not a release
		}
	}
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if jsonDropped[k] {
				delete(v, k)
				continue
			}
			v[k] = n.jsonValue(k, e)
		}
	case []any:
		for i, e := range v {
			v[i] = n.jsonValue("", e)
		}
		if key == "keys" { // a lease's keys: etcd lists them in map order
			sort.Slice(v, func(i, j int) bool { return fmt.Sprint(v[i]) < fmt.Sprint(v[j]) })
		}
	}
	return v
}

// fieldsLine masks one `"Name" : value` line of -w fields.
func (n *normalizer) fieldsLine(l string) string {
	name, val, _ := strings.Cut(l, " : ")
	if kind, ok := fieldsIDs[name]; ok {
		return name + " : " + n.id(kind, val)
	}
	if mask, ok := fieldsMasked[name]; ok {
		return name + " : " + mask
	}
	return l
}

// statusLine masks the simple `endpoint hashkv` row (the hash is of etcd's
// bbolt encoding) and the simple `endpoint status` row: endpoint, ID, version,
// storage version, db size, db size in use, in use %, quota, is leader, is
// learner, raft term, raft index, raft applied index, errors, downgrade
// target, downgrade enabled.
func (n *normalizer) statusLine(l string) string {
	f := strings.Split(l, ", ")
	if len(f) == 3 { // endpoint hashkv: endpoint, hash, hash revision
		f[1] = "<HASH>"
		return strings.Join(f, ", ")
	}
	if len(f) == 10 { // etcdctl 3.4, the fallback: no storage version, quota, downgrade
		f[1] = n.id("member", hexToDec(f[1]))
		f[2], f[3] = "<VERSION>", "<SIZE>"
		f[6], f[7], f[8] = "<TERM>", "<INDEX>", "<INDEX>"
		return strings.Join(f, ", ")
	}
	if len(f) < 13 {
		return l
	}
	f[1] = n.id("member", hexToDec(f[1]))
	for _, i := range []int{2, 3} {
		f[i] = "<VERSION>"
	}
	for _, i := range []int{4, 5, 6, 7} {
		f[i] = "<SIZE>"
	}
	f[10] = "<TERM>"
	f[11], f[12] = "<INDEX>", "<INDEX>"
	return strings.Join(f, ", ")
}

// memberLine masks the simple `member list` row: ID, status, name, peer
// URLs, client URLs, is learner.
func (n *normalizer) memberLine(l string) string {
	f := strings.Split(l, ", ")
	f[0] = n.id("member", hexToDec(f[0]))
	f[2], f[3], f[4] = "<NAME>", "<URLS>", "<URLS>"
	return strings.Join(f, ", ")
}

// id returns the symbol of an ID of the given kind ("cluster", "member").
func (n *normalizer) id(kind, value string) string {
	k := kind + "/" + value
	if s, ok := n.ids[k]; ok {
		return s
	}
	n.counts[kind]++
	s := fmt.Sprintf("<%s-%d>", kind, n.counts[kind])
	n.ids[k] = s
	return s
}

// lease registers a granted lease ID (hex, as etcdctl prints it) so that
// it and its decimal form normalise to a symbol numbered in grant order.
func (n *normalizer) lease(hex string) {
	sym := fmt.Sprintf("<lease-%d>", len(n.leases)/2+1)
	n.leases[hex] = sym
	n.leases[hexToDec(hex)] = sym
}

// grantedLease extracts the ID from `lease grant` output, simple or JSON.
func grantedLease(out string) (string, error) {
	if m := leaseGranted.FindStringSubmatch(out); m != nil {
		return m[1], nil
	}
	var resp struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.ID == 0 {
		return "", fmt.Errorf("no lease ID in %q", out)
	}
	return fmt.Sprintf("%016x", resp.ID), nil
}

var (
	leaseGranted = regexp.MustCompile(`^lease ([0-9a-f]+) granted`)
	hexWord      = regexp.MustCompile(`\b[0-9a-f]{16}\b`)
	took         = regexp.MustCompile(`took [0-9.]+[µnm]?s\b`)
	attachedKeys = regexp.MustCompile(`attached keys\(\[([^]]*)\]\)`)
	// remainingTTL masks the positive seconds left on a lease: they depend
	// on timing. Zero or negative values stay visible.
	remainingTTL = regexp.MustCompile(`remaining\([1-9][0-9]*s\)`)
)

func hexToDec(h string) string {
	u, err := strconv.ParseUint(h, 16, 64)
	if err != nil {
		return h
	}
	return strconv.FormatUint(u, 10)
}
