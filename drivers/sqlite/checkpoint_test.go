package sqlite

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/mvcc"
)

// TestWALRestartsUnderSteadyWrites: under writes that never pause, the WAL
// still restarts (SQLite increments the checkpoint sequence number of its
// header each time), so its file stays near restartFrames pages instead of
// holding every page written since the server started.
func TestWALRestartsUnderSteadyWrites(t *testing.T) {
	frames, tail := restartFrames, restartTail
	restartFrames, restartTail = 256, 32
	defer func() { restartFrames, restartTail = frames, tail }()

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := mvcc.New(ctx, mvcc.Config{Backend: st})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	// 64 clients keep the writer busy for about a second, far longer than
	// the checkpointer's tick: about 15 MB of WAL frames in all (the
	// pages at the end of the log per batch of Puts).
	const writers, puts = 64, 120000
	value := make([]byte, 256)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range puts / writers {
				key := fmt.Appendf(nil, "/key/%06d", r.IntN(20000))
				if _, err := m.Write(ctx, &mvcc.Op{Put: &pb.PutRequest{Key: key, Value: value}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	restarts := make(chan int)
	go func() {
		n, last := 0, uint32(0)
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				restarts <- n
				return
			case <-tk.C:
			}
			seq, err := walCheckpointSeq(path + "-wal")
			if err == nil && seq != last {
				if last != 0 {
					n++
				}
				last = seq
			}
		}
	}()
	wg.Wait()
	close(stop)
	seen := <-restarts
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Without the writer's checkpoint the WAL never restarted here and grew
	// to 350 MB; with it, it restarted about every 100 ms.
	t.Logf("WAL restarted %d times; its file is %d MiB", seen, fi.Size()>>20)
	if seen < 3 {
		t.Fatalf("the WAL restarted %d times during %d Puts that never paused; want at least 3", seen, puts)
	}
}

// walCheckpointSeq reads the checkpoint sequence number of a WAL file's
// header, which SQLite increments each time the WAL restarts.
func walCheckpointSeq(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [16]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(hdr[12:16]), nil
}
