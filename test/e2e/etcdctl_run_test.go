package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// etcdctlTimeout bounds one etcdctl invocation.
const etcdctlTimeout = 15 * time.Second

// ctlResult is what one etcdctl invocation printed and returned.
type ctlResult struct {
	Stdout string
	Stderr string
	Code   int
}

func (r ctlResult) String() string {
	var b strings.Builder
	b.WriteString(r.Stdout)
	if r.Stderr != "" {
		b.WriteString("[stderr] " + r.Stderr)
	}
	if r.Code != 0 {
		b.WriteString("[exit " + strconv.Itoa(r.Code) + "]")
	}
	return b.String()
}

// runEtcdctl runs etcdctl with the v3 API against endpoint, feeding stdin.
func runEtcdctl(t testing.TB, endpoint, stdin string, args ...string) ctlResult {
	t.Helper()
	return runEtcdctlFor(t, 0, endpoint, stdin, args...)
}

// runEtcdctlFor is runEtcdctl for a command that does not end by itself
// (watch) when stream > 0: it is interrupted once its output has been quiet
// for streamQuiet, or after stream at the latest, and what it printed until
// then is its result.
func runEtcdctlFor(t testing.TB, stream time.Duration, endpoint, stdin string, args ...string) ctlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), etcdctlTimeout)
	defer cancel()
	full := append([]string{"--endpoints=" + endpoint, "--dial-timeout=5s", "--command-timeout=5s"}, args...)
	cmd := exec.CommandContext(ctx, needEtcdctl(t), full...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Second
	cmd.Env = etcdctlEnv()
	cmd.Stdin = strings.NewReader(stdin)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("etcdctl %v: %v", args, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	interrupted := false
	if stream > 0 {
		interrupted, err = waitQuiet(done, stdout, stream, cancel)
	} else {
		err = <-done
	}
	res := ctlResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case interrupted:
		// Stopped as planned; the exit status says nothing.
	case ctx.Err() != nil:
		t.Fatalf("etcdctl %v: timed out after %v", args, etcdctlTimeout)
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("etcdctl %v: %v", args, err)
	}
	return res
}

// streamQuiet is how long a streaming command's output must stay unchanged
// (after it printed something) before it is taken to be complete.
const streamQuiet = 300 * time.Millisecond

// waitQuiet waits for the process to exit by itself, or interrupts it (via
// cancel) when out has been non-empty and unchanged for streamQuiet or when
// limit has passed.
func waitQuiet(done <-chan error, out *syncBuffer, limit time.Duration, cancel func()) (interrupted bool, err error) {
	deadline := time.After(limit)
	tick := time.NewTicker(streamQuiet / 3)
	defer tick.Stop()
	last, since := "", time.Now()
	for {
		select {
		case err := <-done:
			return false, err
		case <-deadline:
			cancel()
			return true, <-done
		case <-tick.C:
			if cur := out.String(); cur != last {
				last, since = cur, time.Now()
			} else if cur != "" && time.Since(since) >= streamQuiet {
				cancel()
				return true, <-done
			}
		}
	}
}

// etcdctlEnv is the environment without any ETCDCTL_* setting of the
// caller's. etcdctl 3.4 and later default to the v3 API, and 3.7 warns about
// ETCDCTL_API=3, so it is not set.
func etcdctlEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}
