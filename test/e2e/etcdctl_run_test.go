package e2e

import (
	"bytes"
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
// (watch) when stream > 0: it is interrupted after stream, and what it
// printed until then is its result.
func runEtcdctlFor(t testing.TB, stream time.Duration, endpoint, stdin string, args ...string) ctlResult {
	t.Helper()
	limit := etcdctlTimeout
	if stream > 0 {
		limit = stream
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	full := append([]string{"--endpoints=" + endpoint, "--dial-timeout=5s", "--command-timeout=5s"}, args...)
	cmd := exec.CommandContext(ctx, needEtcdctl(t), full...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Second
	cmd.Env = etcdctlEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ctlResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil && stream > 0:
		// Interrupted as planned; the exit status says nothing.
	case ctx.Err() != nil:
		t.Fatalf("etcdctl %v: timed out after %v", args, etcdctlTimeout)
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("etcdctl %v: %v", args, err)
	}
	return res
}

// etcdctlEnv is the environment without any ETCDCTL_* setting of the
// caller's,; etcdctl 3.4 and later default to the v3 API, and 3.7 warns about ETCDCTL_API.
func etcdctlEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCDCTL_") {
			env = append(env, kv)
		}
	}
	return env
}
