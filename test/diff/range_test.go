package diff

import (
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

type rangeCase struct {
	name string
	req  *pb.RangeRequest
}

func TestRange(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		if rev := p.Apply(t, SampleData...); rev != 14 {
			t.Fatalf("sample data ends at revision %d, want 14", rev)
		}
		cases := append(rangeCases(), sortCases()...)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) { p.Range(t, c.req) })
		}
	})
}

func rangeCases() []rangeCase {
	b := func(s string) []byte { return []byte(s) }
	return []rangeCase{
		{"single key", &pb.RangeRequest{Key: b("a")}},
		{"single missing key", &pb.RangeRequest{Key: b("nope")}},
		{"range a..c", &pb.RangeRequest{Key: b("a"), RangeEnd: b("c")}},
		{"range a..foo0 inclusive-exclusive", &pb.RangeRequest{Key: b("a"), RangeEnd: b("foo0")}},
		{"range empty interval", &pb.RangeRequest{Key: b("d"), RangeEnd: b("e")}},
		{"prefix foo", &pb.RangeRequest{Key: b("foo"), RangeEnd: b("fop")}},
		{"prefix foo/", &pb.RangeRequest{Key: b("foo/"), RangeEnd: b("foo0")}},
		{"from key b", &pb.RangeRequest{Key: b("b"), RangeEnd: b("\x00")}},
		{"from key past end", &pb.RangeRequest{Key: b("zzz"), RangeEnd: b("\x00")}},
		{"all keys", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00")}},
		{"range_end before key", &pb.RangeRequest{Key: b("z"), RangeEnd: b("a")}},
		{"range_end equals key", &pb.RangeRequest{Key: b("a"), RangeEnd: b("a")}},
		{"limit 1 of all", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Limit: 1}},
		{"limit 3 of all", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Limit: 3}},
		{"limit equals count", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Limit: 7}},
		{"limit above count", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Limit: 100}},
		{"negative limit", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Limit: -1}},
		{"limit on single key", &pb.RangeRequest{Key: b("a"), Limit: 1}},
		{"keys_only", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), KeysOnly: true}},
		{"keys_only limit", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), KeysOnly: true, Limit: 2}},
		{"keys_only sort by value", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), KeysOnly: true,
			SortTarget: pb.RangeRequest_VALUE, SortOrder: pb.RangeRequest_DESCEND}},
		{"count_only", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), CountOnly: true}},
		{"count_only limit", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), CountOnly: true, Limit: 2}},
		{"count_only keys_only", &pb.RangeRequest{Key: b("foo"), RangeEnd: b("fop"), CountOnly: true, KeysOnly: true}},
		{"count_only missing", &pb.RangeRequest{Key: b("nope"), CountOnly: true}},
		{"serializable", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Serializable: true}},
		{"serializable limit", &pb.RangeRequest{Key: b("a"), RangeEnd: b("z"), Serializable: true, Limit: 2}},
		{"revision 1 (empty store)", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Revision: 1}},
		{"revision 5", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Revision: 5}},
		{"revision 9 single key", &pb.RangeRequest{Key: b("a"), Revision: 9}},
		{"revision 13 deleted key", &pb.RangeRequest{Key: b("c"), Revision: 13}},
		{"revision 12 before delete", &pb.RangeRequest{Key: b("c"), Revision: 12}},
		{"revision 10 limit", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Revision: 10, Limit: 2}},
		{"revision current", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Revision: 14}},
		{"revision future", &pb.RangeRequest{Key: b("a"), Revision: 15}},
		{"revision far future", &pb.RangeRequest{Key: b("a"), Revision: 1 << 40}},
		{"revision negative", &pb.RangeRequest{Key: b("a"), Revision: -1}},
		{"min_mod_revision", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinModRevision: 9}},
		{"max_mod_revision", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MaxModRevision: 7}},
		{"min_create_revision", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinCreateRevision: 5}},
		{"max_create_revision", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MaxCreateRevision: 5}},
		{"mod window", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinModRevision: 6, MaxModRevision: 11}},
		{"filters with limit", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinModRevision: 6, Limit: 2}},
		{"filters count_only", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinCreateRevision: 6, CountOnly: true}},
		{"filters at revision", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MaxModRevision: 8, Revision: 10}},
		{"filter excludes all", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), MinModRevision: 100}},
		{"invalid sort order", &pb.RangeRequest{Key: b("a"), SortOrder: 99}},
		{"invalid sort target", &pb.RangeRequest{Key: b("a"), SortTarget: 99}},
		{"negative sort order", &pb.RangeRequest{Key: b("a"), SortOrder: -1}},
		{"empty key", &pb.RangeRequest{}},
		{"empty key with range_end", &pb.RangeRequest{RangeEnd: b("z")}},
		{"binary key", &pb.RangeRequest{Key: []byte{0xff, 0x00}, RangeEnd: []byte{0xff, 0xff}}},
	}
}

// sortCases is every sort target × order, over all keys, without a limit
// and with one that cuts through ties.
func sortCases() []rangeCase {
	var cs []rangeCase
	for target := pb.RangeRequest_KEY; target <= pb.RangeRequest_VALUE; target++ {
		for order := pb.RangeRequest_NONE; order <= pb.RangeRequest_DESCEND; order++ {
			for _, limit := range []int64{0, 3} {
				cs = append(cs, rangeCase{
					name: fmt.Sprintf("sort %s %s limit %d", target, order, limit),
					req: &pb.RangeRequest{Key: []byte("\x00"), RangeEnd: []byte("\x00"),
						SortTarget: target, SortOrder: order, Limit: limit},
				})
			}
		}
	}
	return cs
}

// TestPaginatedListCounts: listings paged as the apiserver pages them (the
// next page from the last key + "\x00", at the first page's revision), each
// listing run twice so the second finds the counts the first left behind,
// at the latest revision and at an older one after more writes. Every page,
// its count and more included, matches etcd's.
func TestPaginatedListCounts(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, SampleData...)
		list := func(t *testing.T, key, end string, limit, rev int64) int64 {
			t.Helper()
			k := []byte(key)
			for {
				r, err := p.Range(t, &pb.RangeRequest{Key: k, RangeEnd: []byte(end), Limit: limit, Revision: rev})
				if err != nil || r == nil {
					return rev
				}
				if rev == 0 {
					rev = r.Header.Revision
				}
				if !r.More || len(r.Kvs) == 0 {
					return rev
				}
				k = append(append([]byte{}, r.Kvs[len(r.Kvs)-1].Key...), 0)
			}
		}
		var old int64
		for _, limit := range []int64{1, 2, 3} {
			for range 2 {
				old = list(t, "\x00", "\x00", limit, 0)
				list(t, "foo", "fop", limit, 0)
			}
		}
		for i := range 4 {
			p.MustPut(t, fmt.Sprintf("foo/new%d", i), "v")
		}
		for _, limit := range []int64{1, 2} {
			for range 2 {
				list(t, "\x00", "\x00", limit, old)
				list(t, "foo", "fop", limit, 0)
			}
		}
	})
}
