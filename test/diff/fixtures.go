package diff

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Step is one setup write: a put of Key=Value, or a delete of Key when
// Delete is set.
type Step struct {
	Key, Value string
	Delete     bool
}

// Apply runs steps on both servers in order, comparing every answer, and
// returns etcd's revision after the last one. It stops the test when a
// step fails on etcd, since later cases would compare nonsense.
func (p *Pair) Apply(t testing.TB, steps ...Step) int64 {
	t.Helper()
	var rev int64
	for _, s := range steps {
		if s.Delete {
			resp, err := p.DeleteRange(t, &pb.DeleteRangeRequest{Key: []byte(s.Key)})
			if err != nil {
				t.Fatalf("setup delete %q: %v", s.Key, err)
			}
			rev = resp.GetHeader().GetRevision()
			continue
		}
		rev = p.MustPut(t, s.Key, s.Value)
	}
	return rev
}

// SampleData is a small history with varied versions, create and mod
// revisions, a deleted-and-recreated key, a prefix family and ties in every
// sort target. Applied to fresh servers it ends at revision 14.
var SampleData = []Step{
	{Key: "a", Value: "3"},     // 2
	{Key: "b", Value: "2"},     // 3
	{Key: "c", Value: "1"},     // 4
	{Key: "foo", Value: "x"},   // 5
	{Key: "foo/1", Value: "y"}, // 6
	{Key: "foo/2", Value: "y"}, // 7
	{Key: "foo0", Value: "w"},  // 8
	{Key: "a", Value: "33"},    // 9
	{Key: "a", Value: "333"},   // 10
	{Key: "b", Value: "22"},    // 11
	{Key: "zz", Value: "0"},    // 12
	{Key: "c", Delete: true},   // 13
	{Key: "c", Value: "9"},     // 14
}
