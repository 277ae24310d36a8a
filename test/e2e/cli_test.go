package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds a strata invocation that is expected to exit by itself.
const cliTimeout = 10 * time.Second

// runStrataCLI runs the strata binary with args until it exits and returns
// its combined output and exit code.
func runStrataCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, needStrata(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("strata %v did not exit within %v:\n%s", args, cliTimeout, out.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("strata %v: %v", args, err)
	}
	return out.String(), 0
}

// TestHelpListsFlags: --help exits 0 and documents every flag.
func TestHelpListsFlags(t *testing.T) {
	out, code := runStrataCLI(t, "--help")
	if code != 0 {
		t.Errorf("strata --help exited %d, want 0", code)
	}
	for _, flag := range []string{
		"listen-address", "endpoint", "emulated-etcd-version", "max-request-bytes",
		"max-txn-ops", "debug", "log-format",
	} {
		if !regexp.MustCompile(`(?m)^\s*--?` + flag + `\b`).MatchString(out) {
			t.Errorf("strata --help does not list --%s:\n%s", flag, out)
		}
	}
}

// TestUnknownFlagFails: a typo is an error, not silently ignored.
func TestUnknownFlagFails(t *testing.T) {
	out, code := runStrataCLI(t, "--no-such-flag")
	if code == 0 {
		t.Errorf("strata --no-such-flag exited 0:\n%s", out)
	}
	checkNoPanic(t, out)
}

// TestUnreachableBackendFailsCleanly: a postgres:// or mysql:// DSN whose
// server cannot be reached (or whose driver is not built in yet) makes strata
// exit non-zero promptly, with a message that names the backend and the
// problem, without a panic and without printing the password.
func TestUnreachableBackendFailsCleanly(t *testing.T) {
	for _, dsn := range []string{
		"postgres://strata:secret@127.0.0.1:1/strata?sslmode=disable",
		"mysql://strata:secret@tcp(127.0.0.1:1)/strata",
	} {
		scheme, _, _ := strings.Cut(dsn, "://")
		t.Run(scheme, func(t *testing.T) {
			out, code := runStrataCLI(t, "--listen-address", freePort(t), "--endpoint", dsn)
			if code == 0 {
				t.Errorf("strata --endpoint %s exited 0:\n%s", dsn, out)
			}
			checkNoPanic(t, out)
			lower := strings.ToLower(out)
			problem := regexp.MustCompile(`not (yet )?(supported|implemented|available)|unsupported|connection refused|unavailable`)
			if !strings.Contains(lower, scheme) || !problem.MatchString(lower) {
				t.Errorf("strata --endpoint %s: want a message naming %s and the problem, got:\n%s", dsn, scheme, out)
			}
			if strings.Contains(out, "secret") {
				t.Errorf("strata --endpoint %s printed the password:\n%s", dsn, out)
			}
		})
	}
}

// TestBadEndpointFails: a DSN with an unknown scheme is rejected clearly.
func TestBadEndpointFails(t *testing.T) {
	out, code := runStrataCLI(t, "--listen-address", freePort(t), "--endpoint", "nosuchdb://x")
	if code == 0 {
		t.Errorf("strata --endpoint nosuchdb://x exited 0:\n%s", out)
	}
	checkNoPanic(t, out)
	if !strings.Contains(out, "nosuchdb") {
		t.Errorf("the error does not name the scheme:\n%s", out)
	}
}

// TestDefaultEndpoint: with no --endpoint strata stores its data in
// ./db/state.db under its working directory, creating the directory.
func TestDefaultEndpoint(t *testing.T) {
	dir := t.TempDir()
	p := spawn(t, spawnConfig{listen: freePort(t), dir: dir})
	p.waitReady()
	if _, err := os.Stat(filepath.Join(dir, "db", "state.db")); err != nil {
		t.Errorf("default endpoint: %v", err)
	}
}

// TestUnixSocket: --listen-address unix://path serves etcdctl on the socket.
func TestUnixSocket(t *testing.T) {
	sock := "unix://" + filepath.Join(t.TempDir(), "strata.sock")
	p := spawn(t, spawnConfig{listen: sock, dsn: freshDSN(t)})
	p.waitReady()
	if r := runEtcdctl(t, sock, "", "put", "over", "unix"); r.Code != 0 || r.Stdout != "OK\n" {
		t.Fatalf("etcdctl put over %s: %s", sock, r)
	}
	if r := runEtcdctl(t, sock, "", "get", "over", "--print-value-only"); r.Stdout != "unix\n" {
		t.Fatalf("etcdctl get over %s: %s", sock, r)
	}
}

func checkNoPanic(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Errorf("strata panicked:\n%s", out)
	}
}
