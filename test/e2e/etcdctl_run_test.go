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
const etcdctlTimeout = 20 * time.Second

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
	ctx, cancel := context.WithTimeout(context.Background(), etcdctlTimeout)
	defer cancel()
	full := append([]string{"--endpoints=" + endpoint, "--dial-timeout=5s", "--command-timeout=10s"}, args...)
	cmd := exec.CommandContext(ctx, needEtcdctl(t), full...)
	cmd.Env = etcdctlEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ctlResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("etcdctl %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("etcdctl %v: timed out after %v", args, etcdctlTimeout)
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
