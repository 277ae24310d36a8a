package lease

import (
	"slices"
	"testing"
)

func TestExpiryQueue(t *testing.T) {
	q := newExpiryQueue()
	q.Set(1, 30)
	q.Set(2, 10)
	q.Set(3, 20)
	q.Set(1, 5) // moved earlier
	q.Set(4, 40)
	q.Remove(3)
	q.Remove(99) // not queued
	if at, ok := q.Next(); !ok || at != 5 {
		t.Fatalf("next = %d %v, want 5", at, ok)
	}
	cases := []struct {
		name  string
		now   int64
		limit int
		want  []int64
	}{
		{"nothing due", 4, 10, nil},
		{"limited", 40, 1, []int64{1}},
		{"due in order", 10, 10, []int64{2}},
		{"rest", 100, 10, []int64{4}},
		{"empty", 100, 10, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := q.PopDue(c.now, c.limit); !slices.Equal(got, c.want) {
				t.Errorf("PopDue(%d, %d) = %v, want %v", c.now, c.limit, got, c.want)
			}
		})
	}
	if q.Len() != 0 || len(q.index) != 0 {
		t.Errorf("queue not empty: %d items, %d indexed", q.Len(), len(q.index))
	}
}

// BenchmarkExpiryQueue is the expirer's cost per lease with 10,000 leases
// queued: one Set (grant or renewal) and one PopDue (expiry).
func BenchmarkExpiryQueue(b *testing.B) {
	const n = 10000
	q := newExpiryQueue()
	for i := range int64(n) {
		q.Set(i, 1_000_000+i*7919%n)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := int64(n + i)
		q.Set(id, int64(i))
		if got := q.PopDue(int64(i), 1); len(got) != 1 {
			b.Fatalf("popped %v", got)
		}
	}
}

// BenchmarkExpiryQueueRenew is a keepalive's cost on the expirer with
// 10,000 leases queued: moving one lease later.
func BenchmarkExpiryQueueRenew(b *testing.B) {
	const n = 10000
	q := newExpiryQueue()
	for i := range int64(n) {
		q.Set(i, i)
	}
	for i := 0; b.Loop(); i++ {
		q.Set(int64(i%n), int64(n+i))
	}
}
