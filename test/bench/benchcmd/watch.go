package benchcmd

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	watchPrefix = "/bench/watch/"
	// watchDrain is how long a round waits for the last events.
	watchDrain = 5 * time.Second
	stampLen   = 19 // digits of a UnixNano time stamp
)

// watchLoad: put-to-event latency with many watchers on one prefix, the
// puts paced (WatchRate per second) so latency is delivery, not queueing
// behind a saturated writer.
type watchLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	lat    []time.Duration // guarded by mu: this round's latencies
	got    atomic.Int64
}

func (l *watchLoad) setup(ctx context.Context, e *env) error {
	wctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for i := range e.cfg.Watchers {
		ch := e.client(i).Watch(wctx, watchPrefix, clientv3.WithPrefix())
		l.wg.Add(1)
		go l.receive(ch)
	}
	// A watch is registered once the server answered its create; a put
	// that every watcher receives shows they all are.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		l.got.Store(0)
		if _, err := e.cs[0].Put(ctx, watchPrefix+"warmup", stamp()); err != nil {
			return err
		}
		for t := time.Now(); time.Since(t) < time.Second && l.got.Load() < int64(e.cfg.Watchers); {
			time.Sleep(10 * time.Millisecond)
		}
		if l.got.Load() >= int64(e.cfg.Watchers) {
			return nil
		}
	}
	return fmt.Errorf("watch: %d watchers not all registered after 30s", e.cfg.Watchers)
}

func (l *watchLoad) receive(ch clientv3.WatchChan) {
	defer l.wg.Done()
	for wr := range ch {
		now := time.Now()
		for _, ev := range wr.Events {
			l.got.Add(1)
			t, err := strconv.ParseInt(string(ev.Kv.Value[:min(stampLen, len(ev.Kv.Value))]), 10, 64)
			if err != nil {
				continue
			}
			l.mu.Lock()
			l.lat = append(l.lat, now.Sub(time.Unix(0, t)))
			l.mu.Unlock()
		}
	}
}

func stamp() string {
	s := strconv.FormatInt(time.Now().UnixNano(), 10)
	return s + value[len(s):]
}

func (l *watchLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	l.mu.Lock()
	l.lat = nil
	l.mu.Unlock()
	l.got.Store(0)
	var puts, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(e.cfg.WatchRate))
	start := time.Now()
	for i := 0; time.Since(start) < d && ctx.Err() == nil; i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.client(i).Put(ctx, fmt.Sprintf("%s%04d", watchPrefix, i%1000), stamp()); err != nil {
				errs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			puts.Add(1)
		}()
	}
	tick.Stop()
	wg.Wait()
	want := puts.Load() * int64(e.cfg.Watchers)
	for deadline := time.Now().Add(watchDrain); l.got.Load() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	l.mu.Lock()
	lat := l.lat
	l.lat = nil
	l.mu.Unlock()
	r := Result{Ops: int64(len(lat)), Errors: errs.Load()}
	if missing := want - l.got.Load(); missing > 0 {
		r.Errors += missing
		r.Note = fmt.Sprintf("%d events missing after %s", missing, watchDrain)
	}
	if e, ok := firstErr.Load().(string); ok {
		r.Note = e
	}
	r.fill(lat, elapsed)
	return r
}

func (l *watchLoad) Close() error {
	l.cancel()
	l.wg.Wait()
	return nil
}
