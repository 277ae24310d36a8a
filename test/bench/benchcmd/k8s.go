package benchcmd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	k8sPrefix  = "/bench/k8s/"
	k8sMinLive = 8
)

// k8sLoad: the apiserver's write shapes, mixed: create (compare
// mod_revision = 0), update and delete (compare mod_revision = the one last
// seen), each client on its own objects, while a watcher on the prefix
// records the stream. After each round the stream must hold exactly the
// acknowledged writes, in revision order: a correctness check under load.
type k8sLoad struct {
	workers []*k8sWorker
	mu      sync.Mutex
	acked   []k8sEvent // guarded by mu: this round's acknowledged writes
}

type k8sWorker struct {
	keys []string
	rev  map[string]int64
	seq  int
}

type k8sEvent struct {
	rev int64
	key string
	del bool
}

func (l *k8sLoad) setup(context.Context, *env) error { return nil }

func (l *k8sLoad) round(ctx context.Context, e *env, d time.Duration) Result {
	if l.workers == nil {
		l.workers = make([]*k8sWorker, e.cfg.Clients)
		for i := range l.workers {
			l.workers[i] = &k8sWorker{rev: map[string]int64{}}
		}
	}
	cur, err := e.cs[0].Get(ctx, "/bench/ping")
	if err != nil {
		return Result{Errors: 1, Note: err.Error()}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream := &k8sStream{}
	ch := e.cs[len(e.cs)-1].Watch(wctx, k8sPrefix, clientv3.WithPrefix(), clientv3.WithRev(cur.Header.Revision+1))
	done := make(chan struct{})
	go func() { defer close(done); stream.read(ch) }()
	l.acked = l.acked[:0]
	r := closedLoop(ctx, e.cfg.Clients, d, func(ctx context.Context, w int) error {
		return l.op(ctx, e.client(w), w)
	})
	var last int64
	for _, a := range l.acked {
		last = max(last, a.rev)
	}
	for deadline := time.Now().Add(watchDrain); stream.through() < last && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if bad := compareStream(l.acked, stream.events); bad != "" {
		r.Errors++
		r.Note = "watch stream: " + bad
	}
	return r
}

// op runs one create, update or delete for worker w.
func (l *k8sLoad) op(ctx context.Context, c *clientv3.Client, w int) error {
	s := l.workers[w]
	p := rand.Float64()
	var key string
	var then clientv3.Op
	var del bool
	switch {
	case len(s.keys) < k8sMinLive || p < 0.25:
		s.seq++
		key = fmt.Sprintf("%s%03d/%08d", k8sPrefix, w, s.seq)
		then = clientv3.OpPut(key, value)
	case p < 0.75:
		key = s.keys[rand.IntN(len(s.keys))]
		then = clientv3.OpPut(key, value)
	default:
		key, del = s.keys[rand.IntN(len(s.keys))], true
		then = clientv3.OpDelete(key)
	}
	r, err := c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", s.rev[key])).
		Then(then).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return err
	}
	if !r.Succeeded {
		return fmt.Errorf("k8s: %s lost its own compare (want mod_revision %d)", key, s.rev[key])
	}
	rev := r.Header.Revision
	l.mu.Lock()
	l.acked = append(l.acked, k8sEvent{rev: rev, key: key, del: del})
	l.mu.Unlock()
	if _, ok := s.rev[key]; !ok {
		s.keys = append(s.keys, key)
	}
	s.rev[key] = rev
	if del {
		delete(s.rev, key)
		for i, k := range s.keys {
			if k == key {
				s.keys = append(s.keys[:i], s.keys[i+1:]...)
				break
			}
		}
	}
	return nil
}

// k8sStream is what the watcher received.
type k8sStream struct {
	mu     sync.Mutex
	events []k8sEvent // guarded by mu
	last   int64      // guarded by mu
	err    error      // guarded by mu
}

func (s *k8sStream) read(ch clientv3.WatchChan) {
	for wr := range ch {
		s.mu.Lock()
		if err := wr.Err(); err != nil && s.err == nil && !wr.Canceled {
			s.err = err
		}
		for _, ev := range wr.Events {
			s.events = append(s.events, k8sEvent{rev: ev.Kv.ModRevision, key: string(ev.Kv.Key), del: ev.Type == mvccpb.DELETE})
			s.last = max(s.last, ev.Kv.ModRevision)
		}
		s.mu.Unlock()
	}
}

func (s *k8sStream) through() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// compareStream checks that got is exactly want in revision order; it
// returns "" or what differs.
func compareStream(want, got []k8sEvent) string {
	for i := 1; i < len(got); i++ {
		if got[i].rev <= got[i-1].rev {
			return fmt.Sprintf("revision %d after %d", got[i].rev, got[i-1].rev)
		}
	}
	w := append([]k8sEvent(nil), want...)
	sort.Slice(w, func(i, j int) bool { return w[i].rev < w[j].rev })
	if len(w) != len(got) {
		return fmt.Sprintf("%d events, %d writes acknowledged", len(got), len(w))
	}
	for i := range w {
		if w[i] != got[i] {
			return fmt.Sprintf("event %d is %+v, write was %+v", i, got[i], w[i])
		}
	}
	return ""
}
