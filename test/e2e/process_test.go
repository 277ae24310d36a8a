package e2e

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

const (
	// readyTimeout bounds how long a started server may take to answer.
	readyTimeout = 20 * time.Second
	// readyPoll is the pause between readiness probes.
	readyPoll = 10 * time.Millisecond
	// probeTimeout bounds one readiness probe.
	probeTimeout = 500 * time.Millisecond
	// exitTimeout bounds the wait for a signalled process to exit.
	exitTimeout = 10 * time.Second
)

// strataProc is one strata subprocess. Its combined output is logged when
// the test fails; t.Cleanup kills it if the test did not stop it.
type strataProc struct {
	t    testing.TB
	Addr string // host:port or unix://path it listens on
	DSN  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, valid after done
}

// freshDSN returns a sqlite DSN in a new temporary directory.
func freshDSN(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "state.db")
}

// freePort returns a loopback host:port that was free a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startStrata starts the strata binary on dsn and a free port and waits
// until it answers a Range.
func startStrata(t testing.TB, dsn string, extraArgs ...string) *strataProc {
	t.Helper()
	p := spawnStrata(t, dsn, extraArgs...)
	p.waitReady()
	return p
}

// spawnStrata starts the strata binary on dsn and a free port without
// waiting for it.
func spawnStrata(t testing.TB, dsn string, extraArgs ...string) *strataProc {
	t.Helper()
	return spawn(t, spawnConfig{listen: freePort(t), dsn: dsn, args: extraArgs})
}

// spawnConfig is how to run one strata process.
type spawnConfig struct {
	listen string   // --listen-address; its clients dial the same string
	dsn    string   // --endpoint; empty leaves the default
	dir    string   // working directory; empty is the test's
	args   []string // more flags
}

func spawn(t testing.TB, c spawnConfig) *strataProc {
	t.Helper()
	bin := needStrata(t)
	p := &strataProc{t: t, Addr: c.listen, DSN: c.dsn, out: &syncBuffer{}, done: make(chan struct{})}
	args := []string{"--listen-address", c.listen}
	if c.dsn != "" {
		args = append(args, "--endpoint", c.dsn)
	}
	p.cmd = exec.Command(bin, append(args, c.args...)...)
	p.cmd.Dir = c.dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start strata: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("strata %s output:\n%s", p.Addr, p.out.String())
		}
	})
	return p
}

// waitReady waits until the server accepts connections (polled with plain
// dials, which avoids gRPC's reconnect backoff) and then answers a Range;
// it fails the test if the process exits or readyTimeout passes.
func (p *strataProc) waitReady() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	network, address := "tcp", p.Addr
	if path, ok := strings.CutPrefix(p.Addr, "unix://"); ok {
		network, address = "unix", path
	}
	for {
		conn, err := net.DialTimeout(network, address, probeTimeout)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case <-p.done:
			p.t.Fatalf("strata exited before it was ready: %v\n%s", p.err, p.out.String())
		case <-ctx.Done():
			p.t.Fatalf("strata not listening after %v: %v", readyTimeout, err)
		case <-time.After(readyPoll):
		}
	}
	cli := newClient(p.t, p.Addr)
	defer cli.Close()
	if _, err := cli.Get(ctx, "e2e-ready-probe"); err != nil {
		p.t.Fatalf("strata listens but does not answer a Range: %v", err)
	}
}

// kill sends SIGKILL and waits for the exit; a no-op if it has exited.
func (p *strataProc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// signal sends sig and waits up to timeout for the exit. It returns the
// exit code (-1 if killed by a signal) and whether the process exited.
func (p *strataProc) signal(sig syscall.Signal, timeout time.Duration) (code int, exited bool) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
	return p.wait(timeout)
}

// wait waits up to timeout for the exit.
func (p *strataProc) wait(timeout time.Duration) (code int, exited bool) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return 0, false
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode(), true
	}
	if p.err != nil {
		return -1, true
	}
	return 0, true
}

// Output returns everything the process wrote so far.
func (p *strataProc) Output() string { return p.out.String() }

// newClient returns a clientv3 client for addr, its configuration changed
// by each of with; the caller closes it.
func newClient(t testing.TB, addr string, with ...func(*clientv3.Config)) *clientv3.Client {
	t.Helper()
	cfg := clientv3.Config{
		Endpoints:   []string{addr},
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	}
	for _, f := range with {
		f(&cfg)
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatalf("client %s: %v", addr, err)
	}
	return cli
}

// syncBuffer is a bytes.Buffer safe for the writer goroutines of exec.Cmd
// and a concurrent reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
