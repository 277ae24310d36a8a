package benchcmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	memKeys     = 100_000
	memWatchers = 1_000
	memLeases   = 1_000
	memSettle   = 2 * time.Second
)

// memLoad: the server's resident memory holding 100k keys, 1,000 watchers
// and 1,000 leases (only for servers strata-bench started: it reads
// /proc/PID/status). It runs on fresh servers (Config.Fresh), so that the
// memory is that of this load, not of what earlier workloads left.
type memLoad struct {
	cancel context.CancelFunc
}

func (l *memLoad) setup(ctx context.Context, e *env) error {
	if err := parallel(e.cfg.Clients, memKeys, func(w, i int) error {
		_, err := e.client(w).Put(ctx, fmt.Sprintf("/bench/mem/%06d", i), value)
		return err
	}); err != nil {
		return err
	}
	if err := parallel(e.cfg.Clients, memLeases, func(w, i int) error {
		_, err := e.client(w).Grant(ctx, 3600)
		return err
	}); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	for i := range memWatchers {
		ch := e.client(i).Watch(wctx, fmt.Sprintf("/bench/mem/%03d", i%1000), clientv3.WithPrefix())
		go func() {
			for range ch {
			}
		}()
	}
	return nil
}

func (l *memLoad) round(ctx context.Context, e *env, _ time.Duration) Result {
	time.Sleep(memSettle)
	if e.t.PID == 0 {
		return Result{Note: "RSS unknown: not started by strata-bench"}
	}
	rss, err := rssMB(e.t.PID)
	if err != nil {
		return Result{Errors: 1, Note: err.Error()}
	}
	return Result{RSSMB: rss}
}

func (l *memLoad) Close() error {
	if l.cancel != nil {
		l.cancel()
	}
	return nil
}

// rssMB reads VmRSS of pid, in MiB.
func rssMB(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
