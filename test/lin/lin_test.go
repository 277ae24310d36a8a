package lin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/test/testserver"
)

const (
	backendEnv   = "STRATA_CONFORMANCE_BACKEND"
	opTimeout    = 5 * time.Second
	checkTimeout = 2 * time.Minute
	leaseTTL     = 600 // seconds: leases end by Revoke only, never by expiry
)

// TestLinearizable runs clients against one server.
func TestLinearizable(t *testing.T) {
	srv := start(t, "")
	run(t, []*testserver.Server{srv}, 8, 200)
}

// TestLinearizableThreeServers runs clients against three Strata servers
// sharing one database, as a highly available deployment does: a read on
// one server must see every write acknowledged by another.
func TestLinearizableThreeServers(t *testing.T) {
	backend := backendOf()
	if backend != "postgres" && backend != "mysql" {
		t.Skipf("%s: several servers need a shared PostgreSQL or MySQL database", backend)
	}
	dsn := testserver.FreshDSN(t, backend)
	var srvs []*testserver.Server
	for range 3 {
		srvs = append(srvs, start(t, dsn))
	}
	run(t, srvs, 9, 150)
}

func backendOf() string {
	if b := os.Getenv(backendEnv); b != "" {
		return b
	}
	return "sqlite"
}

func start(t *testing.T, dsn string) *testserver.Server {
	t.Helper()
	if b := backendOf(); b == "etcd" {
		return testserver.StartEtcd(t)
	} else {
		return testserver.StartStrata(t, testserver.Options{Backend: b, DSN: dsn})
	}
}

// run records clients × ops operations, client i talking to server i mod
// len(srvs), and checks the history.
func run(t *testing.T, srvs []*testserver.Server, clients, ops int) {
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	for id := range clients {
		c := srvs[id%len(srvs)].Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{id: id, c: c, rnd: rand.New(rand.NewPCG(uint64(id), 42))}
			for n := range ops {
				in := w.next(n)
				call := now()
				out := w.do(in)
				ret := now()
				if out.unknown {
					ret = math.MaxInt64 // it may take effect any time after the call
				}
				w.observe(in, out)
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	unknown := 0
	for _, op := range history {
		if op.Output.(output).unknown {
			unknown++
		}
	}
	t.Logf("%d operations (%d with unknown outcome) in %v", len(history), unknown, time.Since(start).Round(time.Millisecond))
	nm := porcupine.NondeterministicModel{
		Init:              func() []any { return []any{state{rev: 1}} },
		Step:              step,
		Hash:              hashState,
		DescribeOperation: describe,
		DescribeState:     func(s any) string { return fmt.Sprintf("%+v", s) },
	}
	m := nm.ToModel()
	res, info := porcupine.CheckOperationsVerbose(m, history, checkTimeout)
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Fatalf("linearizability check did not finish in %v", checkTimeout)
	default:
		path := filepath.Join(t.TempDir(), "history.html")
		if dir := os.Getenv("STRATA_LIN_OUT"); dir != "" {
			path = filepath.Join(dir, t.Name()+".html")
		}
		if err := porcupine.VisualizePath(m, info, path); err != nil {
			t.Logf("visualize: %v", err)
		}
		t.Fatalf("history is not linearizable (%d operations); visualization: %s (set STRATA_LIN_OUT to keep it)", len(history), path)
	}
}

// worker is one client: it picks operations at random, remembering the
// mod revisions and lease IDs it saw so that CAS and lease operations are
// meaningful.
type worker struct {
	id     int
	c      *clientv3.Client
	rnd    *rand.Rand
	mods   [3]int64
	leases []int64
}

func (w *worker) next(n int) input {
	in := input{key: w.rnd.IntN(len(keys)), key2: w.rnd.IntN(len(keys)), value: fmt.Sprintf("c%d-%d", w.id, n)}
	switch p := w.rnd.IntN(100); {
	case p < 25:
		in.kind = opGet
	case p < 32:
		in.kind = opRange
	case p < 50:
		in.kind = opPut
	case p < 58:
		in.kind = opDelete
	case p < 73:
		in.kind, in.rev = opCAS, w.mods[in.key]
	case p < 80:
		in.kind = opMulti
		if in.key2 == in.key {
			in.key2 = (in.key + 1) % len(keys)
		}
	case p < 85:
		in.kind = opGrant
	case p < 94 && len(w.leases) > 0:
		in.kind, in.lease = opPutLease, w.leases[w.rnd.IntN(len(w.leases))]
	case len(w.leases) > 0:
		in.kind, in.lease = opRevoke, w.leases[w.rnd.IntN(len(w.leases))]
	default:
		in.kind = opGrant
	}
	return in
}

func (w *worker) observe(in input, out output) {
	switch {
	case out.unknown || out.notFound:
	case in.kind == opGrant:
		w.leases = append(w.leases, out.lease)
	case in.kind == opGet || (in.kind == opCAS && !out.succeeded):
		w.mods[in.key] = out.kvs[0].mod
	case in.kind == opRange:
		for i := range keys {
			w.mods[i] = out.kvs[i].mod
		}
	case in.kind == opPut || in.kind == opPutLease || in.kind == opCAS:
		w.mods[in.key] = out.rev
	}
}

func (w *worker) do(in input) output {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	k, k2 := keys[in.key], keys[in.key2]
	var (
		out output
		err error
	)
	switch in.kind {
	case opGet:
		var r *clientv3.GetResponse
		if r, err = w.c.Get(ctx, k); err == nil {
			out.rev = r.Header.Revision
			if len(r.Kvs) > 0 {
				out.kvs[0] = toKV(r.Kvs[0])
			}
		}
	case opRange:
		var r *clientv3.GetResponse
		if r, err = w.c.Get(ctx, "k", clientv3.WithPrefix()); err == nil {
			out.rev = r.Header.Revision
			for _, x := range r.Kvs {
				for i, name := range keys {
					if string(x.Key) == name {
						out.kvs[i] = toKV(x)
					}
				}
			}
		}
	case opPut:
		var r *clientv3.PutResponse
		if r, err = w.c.Put(ctx, k, in.value); err == nil {
			out.rev = r.Header.Revision
		}
	case opPutLease:
		var r *clientv3.PutResponse
		if r, err = w.c.Put(ctx, k, in.value, clientv3.WithLease(clientv3.LeaseID(in.lease))); err == nil {
			out.rev = r.Header.Revision
		}
	case opDelete:
		var r *clientv3.DeleteResponse
		if r, err = w.c.Delete(ctx, k); err == nil {
			out.rev, out.deleted = r.Header.Revision, r.Deleted
		}
	case opCAS:
		var r *clientv3.TxnResponse
		r, err = w.c.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", in.rev)).
			Then(clientv3.OpPut(k, in.value)).Else(clientv3.OpGet(k)).Commit()
		if err == nil {
			out.rev, out.succeeded = r.Header.Revision, r.Succeeded
			if !r.Succeeded {
				if kvs := r.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
					out.kvs[0] = toKV(kvs[0])
				}
			}
		}
	case opMulti:
		var r *clientv3.TxnResponse
		r, err = w.c.Txn(ctx).If(clientv3.Compare(clientv3.Version(k), ">", 0)).
			Then(clientv3.OpDelete(k), clientv3.OpPut(k2, in.value)).
			Else(clientv3.OpPut(k, in.value), clientv3.OpPut(k2, in.value)).Commit()
		if err == nil {
			out.rev, out.succeeded = r.Header.Revision, r.Succeeded
		}
	case opGrant:
		var r *clientv3.LeaseGrantResponse
		if r, err = w.c.Grant(ctx, leaseTTL); err == nil {
			out.rev, out.lease = r.ResponseHeader.Revision, int64(r.ID)
		}
	case opRevoke:
		var r *clientv3.LeaseRevokeResponse
		if r, err = w.c.Revoke(ctx, clientv3.LeaseID(in.lease)); err == nil {
			out.rev = r.Header.Revision
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		out = output{notFound: true}
	default:
		out = output{unknown: true}
	}
	return out
}

func toKV(x interface {
	GetValue() []byte
	GetCreateRevision() int64
	GetModRevision() int64
	GetVersion() int64
	GetLease() int64
}) kv {
	return kv{value: string(x.GetValue()), create: x.GetCreateRevision(), mod: x.GetModRevision(), ver: x.GetVersion(), lease: x.GetLease()}
}
