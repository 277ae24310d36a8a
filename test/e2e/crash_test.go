package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	crashCycles    = 3
	crashWriters   = 16
	crashClients   = 4
	crashWriteTime = 2 * time.Second
	// crashKeys is how many plain keys each writer cycles over, so most keys
	// are written several times; every crashTxnEvery-th op is a Txn that puts
	// the same value to every key of a group, alternately the 2-key group
	// and the crashBigTxn-key group.
	crashKeys      = 8
	crashBigTxn    = 32
	crashTxnEvery  = 5
	crashOpTimeout = 5 * time.Second
	// crashSampleEvery picks the acknowledged writes whose history is read
	// back at their revision.
	crashSampleEvery   = 7
	crashVerifyTimeout = 20 * time.Second
	// crashReaders is how many Gets read the history back at once.
	crashReaders = 8
)

// crashWrite is one Put (one key) or Txn (several keys, one value, one
// revision).
type crashWrite struct {
	keys  []string
	value string
	rev   int64 // the acknowledged revision; 0 while unacknowledged
}

// crashWriter owns its keys: nobody else writes them. Its writes are
// sequential, so at most one (pending) is in doubt when the server dies.
type crashWriter struct {
	acked   []crashWrite
	pending *crashWrite // sent but not acknowledged: may or may not be stored
}

// kvState is a key as read back: absent, or value and revisions.
type kvState struct {
	value                string
	mod, create, version int64
}

// TestKill9DuringWrites kills strata with SIGKILL while concurrent writers
// run, restarts it on the same database, and checks that every acknowledged
// write is there at exactly its revision, that a write in doubt is there
// whole or not at all, and that nothing from earlier cycles changed.
func TestKill9DuringWrites(t *testing.T) {
	dsn := freshDSN(t)
	seen := map[string]kvState{} // every key of finished cycles, as read back
	var storeRev int64           // the revision after the last restart
	p := startStrata(t, dsn)
	for cycle := 0; cycle < crashCycles; cycle++ {
		writers := runCrashWriters(t, p, cycle)
		p = startStrata(t, dsn)
		cli := newClient(t, p.Addr)
		storeRev = verifyCrashCycle(t, cli, cycle, writers, storeRev, seen)
		cli.Close()
	}
	p.kill()
}

// runCrashWriters runs the writers against p for crashWriteTime, kills p
// with SIGKILL while they write, and returns their logs.
func runCrashWriters(t *testing.T, p *strataProc, cycle int) []*crashWriter {
	t.Helper()
	clients := make([]*clientv3.Client, crashClients)
	for i := range clients {
		clients[i] = newClient(t, p.Addr)
		defer clients[i].Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	writers := make([]*crashWriter, crashWriters)
	var wg sync.WaitGroup
	for w := range writers {
		writers[w] = &crashWriter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			writers[w].run(ctx, clients[w%crashClients], cycle, w)
		}()
	}
	time.Sleep(crashWriteTime)
	p.kill()
	cancel()
	wg.Wait()
	n, doubt := 0, 0
	for _, w := range writers {
		n += len(w.acked)
		if w.pending != nil {
			doubt++
		}
	}
	t.Logf("cycle %d: %d writes acknowledged before SIGKILL, %d in doubt", cycle, n, doubt)
	if n == 0 {
		t.Fatalf("cycle %d: no write was acknowledged in %v", cycle, crashWriteTime)
	}
	return writers
}

func (w *crashWriter) run(ctx context.Context, cli *clientv3.Client, cycle, id int) {
	for i := 0; ctx.Err() == nil; i++ {
		op := crashWrite{value: fmt.Sprintf("c%d-w%d-op%d", cycle, id, i)}
		if i%crashTxnEvery == crashTxnEvery-1 {
			op.keys = txnGroup(cycle, id, (i/crashTxnEvery)%2)
		} else {
			op.keys = []string{fmt.Sprintf("crash/c%d/w%02d/k%d", cycle, id, i%crashKeys)}
		}
		w.pending = &op
		rev, err := op.apply(ctx, cli)
		if err != nil {
			return // the server is gone; op stays pending (in doubt)
		}
		op.rev = rev
		w.acked = append(w.acked, op)
		w.pending = nil
	}
}

// txnGroup returns the keys of a writer's Txn group: group 0 has 2 keys,
// group 1 crashBigTxn.
func txnGroup(cycle, id, group int) []string {
	n := 2
	if group == 1 {
		n = crashBigTxn
	}
	keys := make([]string, n)
	for j := range keys {
		keys[j] = fmt.Sprintf("crash/c%d/w%02d/t%d/%02d", cycle, id, group, j)
	}
	return keys
}

func (op crashWrite) apply(ctx context.Context, cli *clientv3.Client) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, crashOpTimeout)
	defer cancel()
	if len(op.keys) == 1 {
		resp, err := cli.Put(ctx, op.keys[0], op.value)
		if err != nil {
			return 0, err
		}
		return resp.Header.Revision, nil
	}
	var puts []clientv3.Op
	for _, k := range op.keys {
		puts = append(puts, clientv3.OpPut(k, op.value))
	}
	resp, err := cli.Txn(ctx).Then(puts...).Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("txn without compares did not succeed")
	}
	return resp.Header.Revision, nil
}

// verifyCrashCycle checks the restarted store against the writers' logs of
// this cycle and against what earlier cycles left (seen, updated here). It
// returns the store's revision.
func verifyCrashCycle(t *testing.T, cli *clientv3.Client, cycle int, writers []*crashWriter, prevRev int64, seen map[string]kvState) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), crashVerifyTimeout)
	defer cancel()
	resp, err := cli.Get(ctx, "crash/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("cycle %d: read back after restart: %v", cycle, err)
	}
	got := map[string]kvState{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = kvState{value: string(kv.Value), mod: kv.ModRevision, create: kv.CreateRevision, version: kv.Version}
	}
	storeRev := resp.Header.Revision
	checkEarlierCycles(t, cycle, got, seen)
	checkRevisions(t, cycle, writers, prevRev, storeRev)
	stored := 0
	for id, w := range writers {
		if checkWriter(t, cycle, id, w, got) {
			stored++
		}
	}
	t.Logf("cycle %d: %d of the writes in doubt were stored", cycle, stored)
	checkHistory(t, ctx, cli, cycle, writers)
	for k, s := range got {
		seen[k] = s
	}
	if t.Failed() {
		t.FailNow()
	}
	return storeRev
}

// checkEarlierCycles: keys of finished cycles must read exactly as before.
func checkEarlierCycles(t *testing.T, cycle int, got, seen map[string]kvState) {
	t.Helper()
	for k, want := range seen {
		if g, ok := got[k]; !ok || g != want {
			t.Errorf("cycle %d: %s of an earlier cycle changed across restart: was %+v, now %+v (present %v)", cycle, k, want, g, ok)
		}
	}
	prefix := fmt.Sprintf("crash/c%d/", cycle)
	for k := range got {
		if _, ok := seen[k]; !ok && (len(k) < len(prefix) || k[:len(prefix)] != prefix) {
			t.Errorf("cycle %d: unexpected key %s", cycle, k)
		}
	}
}

// checkRevisions: acknowledged revisions are unique across writers, strictly
// increasing per writer, above the revision the store had before the cycle,
// and no higher than the store's revision after restart.
func checkRevisions(t *testing.T, cycle int, writers []*crashWriter, prevRev, storeRev int64) {
	t.Helper()
	owner := map[int64]string{}
	var maxRev int64
	for id, w := range writers {
		last := prevRev
		for _, op := range w.acked {
			if op.rev <= last {
				t.Errorf("cycle %d: writer %d: %s acknowledged at revision %d, not above %d", cycle, id, op.value, op.rev, last)
			}
			last = op.rev
			if o, dup := owner[op.rev]; dup {
				t.Errorf("cycle %d: revision %d acknowledged for both %s and %s", cycle, op.rev, o, op.value)
			}
			owner[op.rev] = op.value
			maxRev = max(maxRev, op.rev)
		}
	}
	if storeRev < maxRev {
		t.Errorf("cycle %d: store at revision %d after restart, below the highest acknowledged %d", cycle, storeRev, maxRev)
	}
}

// checkWriter compares each of a writer's keys with its log: the last
// acknowledged write at exactly its revision, or the write in doubt whole.
// It reports whether the write in doubt was stored.
func checkWriter(t *testing.T, cycle, id int, w *crashWriter, got map[string]kvState) bool {
	t.Helper()
	history := map[string][]crashWrite{}
	for _, op := range w.acked {
		for _, k := range op.keys {
			history[k] = append(history[k], op)
		}
	}
	if w.pending != nil {
		for _, k := range w.pending.keys {
			history[k] = append(history[k], crashWrite{}) // keep the key listed
		}
	}
	var pendingStored []bool
	for k, ops := range history {
		acked := ops
		if len(acked) > 0 && acked[len(acked)-1].rev == 0 {
			acked = acked[:len(acked)-1]
		}
		g, present := got[k]
		stored, ok := keyMatches(g, present, acked, w.pending, k)
		if !ok {
			t.Errorf("cycle %d: writer %d: %s reads %+v (present %v); acknowledged %s; in doubt %s",
				cycle, id, k, g, present, describeLast(acked), describePending(w.pending, k))
			continue
		}
		if w.pending != nil && contains(w.pending.keys, k) {
			pendingStored = append(pendingStored, stored)
		}
	}
	for _, s := range pendingStored {
		if s != pendingStored[0] {
			t.Errorf("cycle %d: writer %d: the Txn in doubt (%s) is stored for some of its %d keys only", cycle, id, w.pending.value, len(w.pending.keys))
			return false
		}
	}
	return len(pendingStored) > 0 && pendingStored[0]
}

// keyMatches reports whether a key's state fits its acknowledged writes and
// the write in doubt, and whether that write is the one stored.
func keyMatches(g kvState, present bool, acked []crashWrite, pending *crashWrite, k string) (pendingStored, ok bool) {
	n := int64(len(acked))
	if pending != nil && contains(pending.keys, k) && present && g.value == pending.value {
		var lastRev int64
		create := g.mod
		if n > 0 {
			lastRev, create = acked[n-1].rev, acked[0].rev
		}
		return true, g.mod > lastRev && g.version == n+1 && g.create == create
	}
	if n == 0 {
		return false, !present
	}
	last := acked[n-1]
	return false, present && g.value == last.value && g.mod == last.rev && g.version == n && g.create == acked[0].rev
}

// checkHistory reads every acknowledged write back at its revision: each
// of its keys holds its value with exactly that mod_revision, so no write was
// lost even if a later one overwrote it. crashReaders Gets run at once.
func checkHistory(t *testing.T, ctx context.Context, cli *clientv3.Client, cycle int, writers []*crashWriter) {
	t.Helper()
	ops := make(chan crashWrite)
	errs := make(chan string, crashReaders)
	var wg sync.WaitGroup
	for range crashReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range ops {
				if msg := readBack(ctx, cli, op); msg != "" {
					errs <- msg
					return
				}
			}
		}()
	}
	go func() {
		defer close(ops)
		for _, w := range writers {
			for _, op := range w.acked {
				select {
				case ops <- op:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() { wg.Wait(); close(errs) }()
	for msg := range errs {
		t.Errorf("cycle %d: %s", cycle, msg)
	}
}

// readBack returns "" if op reads back at its revision, else the mismatch.
// A Txn's group is read with one prefix Range.
func readBack(ctx context.Context, cli *clientv3.Client, op crashWrite) string {
	key, opts := op.keys[0], []clientv3.OpOption{clientv3.WithRev(op.rev)}
	if len(op.keys) > 1 {
		key = key[:strings.LastIndex(key, "/")+1]
		opts = append(opts, clientv3.WithPrefix())
	}
	resp, err := cli.Get(ctx, key, opts...)
	if err != nil {
		return fmt.Sprintf("get %s at %d: %v", key, op.rev, err)
	}
	if len(resp.Kvs) != len(op.keys) {
		return fmt.Sprintf("%s at revision %d reads %d keys, want %d written at %d", key, op.rev, len(resp.Kvs), len(op.keys), op.rev)
	}
	for _, kv := range resp.Kvs {
		if string(kv.Value) != op.value || kv.ModRevision != op.rev {
			return fmt.Sprintf("%s at revision %d reads %q@%d, want %q written at %d", kv.Key, op.rev, kv.Value, kv.ModRevision, op.value, op.rev)
		}
	}
	return ""
}

func describeLast(acked []crashWrite) string {
	if len(acked) == 0 {
		return "nothing"
	}
	last := acked[len(acked)-1]
	return fmt.Sprintf("%d writes, last %s at %d", len(acked), last.value, last.rev)
}

func describePending(p *crashWrite, k string) string {
	if p == nil || !contains(p.keys, k) {
		return "none"
	}
	return p.value
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}
