package benchcmd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	keySpace  = 100_000
	valueSize = 256
	listKeys  = 5_000
	listRevs  = 3
	listPage  = 500
)

var value = strings.Repeat("v", valueSize)

// putLoad: random keys out of 100k, 256-byte values.
type putLoad struct{}

func (putLoad) setup(context.Context, *env) error { return nil }

func (putLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	return closedLoop(ctx, e.cfg.Clients, d, func(ctx context.Context, w int) error {
		_, err := e.client(w).Put(ctx, fmt.Sprintf("/bench/put/%06d", rand.IntN(keySpace)), value)
		return err
	})
}

// rangeLoad: linearizable Get of one key.
type rangeLoad struct{}

func (rangeLoad) setup(ctx context.Context, e *env) error {
	_, err := e.cs[0].Put(ctx, "/bench/range", value)
	return err
}

func (rangeLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	return closedLoop(ctx, e.cfg.Clients, d, func(ctx context.Context, w int) error {
		r, err := e.client(w).Get(ctx, "/bench/range")
		if err == nil && len(r.Kvs) != 1 {
			err = fmt.Errorf("range: %d keys, want 1", len(r.Kvs))
		}
		return err
	})
}

// txnLoad: Kubernetes' update (compare mod_revision, put, else get) on one
// key per client.
type txnLoad struct {
	revs []int64 // per worker: the mod revision it last saw
}

func (l *txnLoad) setup(ctx context.Context, e *env) error {
	l.revs = make([]int64, e.cfg.Clients)
	for w := range l.revs {
		r, err := e.cs[0].Put(ctx, txnKey(w), value)
		if err != nil {
			return err
		}
		l.revs[w] = r.Header.Revision
	}
	return nil
}

func txnKey(w int) string { return fmt.Sprintf("/bench/txn/%03d", w) }

func (l *txnLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	return closedLoop(ctx, e.cfg.Clients, d, func(ctx context.Context, w int) error {
		key := txnKey(w)
		r, err := e.client(w).Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", l.revs[w])).
			Then(clientv3.OpPut(key, value)).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return err
		}
		if !r.Succeeded {
			// Only this worker writes its key: a failed compare is a bug.
			l.revs[w] = r.Responses[0].GetResponseRange().Kvs[0].ModRevision
			return fmt.Errorf("txn: %s lost its own compare", key)
		}
		l.revs[w] = r.Header.Revision
		return nil
	})
}

// listLoad: a paginated listing (limit 500, at the first page's revision,
// as the Kubernetes apiserver lists) of 5,000 keys with several revisions
// of history each. One op is the whole listing.
type listLoad struct{}

func (listLoad) setup(ctx context.Context, e *env) error {
	return parallel(e.cfg.Clients, listKeys*listRevs, func(w, i int) error {
		_, err := e.client(w).Put(ctx, fmt.Sprintf("/bench/list/%05d", i%listKeys), value)
		return err
	})
}

func (listLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	end := clientv3.GetPrefixRangeEnd("/bench/list/")
	return closedLoop(ctx, e.cfg.Clients, d, func(ctx context.Context, w int) error {
		c := e.client(w)
		key, rev, n := "/bench/list/", int64(0), 0
		for {
			opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPage)}
			if rev > 0 {
				opts = append(opts, clientv3.WithRev(rev))
			}
			r, err := c.Get(ctx, key, opts...)
			if err != nil {
				return err
			}
			if rev == 0 {
				rev = r.Header.Revision
			}
			n += len(r.Kvs)
			if !r.More || len(r.Kvs) == 0 {
				break
			}
			key = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
		}
		if n != listKeys {
			return fmt.Errorf("list: %d keys, want %d", n, listKeys)
		}
		return nil
	})
}

// parallel runs fn for i in [0, n) on workers goroutines; the first error
// wins.
func parallel(workers, n int, fn func(w, i int) error) error {
	var mu sync.Mutex
	var first error
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(w, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}
