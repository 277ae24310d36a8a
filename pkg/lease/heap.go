package lease

import "container/heap"

// expiryQueue is the expirer's priority queue of leases by expiry: adding,
// moving or removing a lease costs O(log n), finding the next one O(1).
// It is not safe for concurrent use; the Lessor guards it with its mutex.
type expiryQueue struct {
	items []*queued
	index map[int64]*queued
}

// queued is one lease in the queue; at is its expiry in milliseconds on the
// database clock.
type queued struct {
	id  int64
	at  int64
	pos int
}

func newExpiryQueue() *expiryQueue {
	return &expiryQueue{index: map[int64]*queued{}}
}

// Len is the number of leases queued.
func (q *expiryQueue) Len() int { return len(q.items) }

// Set queues lease id to expire at, or moves it there if queued.
func (q *expiryQueue) Set(id, at int64) {
	if it, ok := q.index[id]; ok {
		it.at = at
		heap.Fix((*queueHeap)(q), it.pos)
		return
	}
	it := &queued{id: id, at: at}
	q.index[id] = it
	heap.Push((*queueHeap)(q), it)
}

// Remove drops lease id from the queue, if it is there.
func (q *expiryQueue) Remove(id int64) {
	if it, ok := q.index[id]; ok {
		heap.Remove((*queueHeap)(q), it.pos)
	}
}

// Next returns the earliest expiry; ok is false when the queue is empty.
func (q *expiryQueue) Next() (at int64, ok bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

// PopDue removes and returns up to limit leases expiring at or before now,
// earliest first.
func (q *expiryQueue) PopDue(now int64, limit int) []int64 {
	var ids []int64
	for len(q.items) > 0 && q.items[0].at <= now && len(ids) < limit {
		ids = append(ids, heap.Pop((*queueHeap)(q)).(*queued).id)
	}
	return ids
}

// Reset empties the queue.
func (q *expiryQueue) Reset() {
	q.items, q.index = nil, map[int64]*queued{}
}

// queueHeap is the container/heap view of an expiryQueue.
type queueHeap expiryQueue

func (h *queueHeap) Len() int           { return len(h.items) }
func (h *queueHeap) Less(i, j int) bool { return h.items[i].at < h.items[j].at }

func (h *queueHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].pos, h.items[j].pos = i, j
}

func (h *queueHeap) Push(x any) {
	it := x.(*queued)
	it.pos = len(h.items)
	h.items = append(h.items, it)
}

func (h *queueHeap) Pop() any {
	n := len(h.items) - 1
	it := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	delete(h.index, it.id)
	return it
}
