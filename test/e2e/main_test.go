package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	// strataBuildTimeout bounds `go build` of the server (cold caches on two
	// cores take about a minute).
	strataBuildTimeout = 5 * time.Minute
	// etcdctlBuildTimeout bounds build-etcdctl.sh; only the first run builds.
	etcdctlBuildTimeout = 5 * time.Minute
)

// strataBinEnv names a prebuilt strata binary to test instead of building
// ./cmd/strata from the work tree (a release, or another commit's build).
const strataBinEnv = "STRATA_E2E_BIN"

// Built once per package run by TestMain. A failed build does not stop the
// run; each test that needs the binary fails with the build's output.
var (
	strataBin      string
	strataBuildErr error
	etcdctlBin     string
	etcdctlErr     error
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "strata-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if bin := os.Getenv(strataBinEnv); bin != "" {
		strataBin = bin
	} else {
		strataBin, strataBuildErr = buildStrata(dir)
	}
	etcdctlBin, etcdctlErr = buildEtcdctl()
	return m.Run()
}

func buildStrata(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), strataBuildTimeout)
	defer cancel()
	bin := filepath.Join(dir, "strata")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/strata-db/strata/cmd/strata")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/strata: %v\n%s", err, out)
	}
	return bin, nil
}

func buildEtcdctl() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), etcdctlBuildTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", "./build-etcdctl.sh")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build-etcdctl.sh: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		// The fallback to a system etcdctl explains itself on stderr.
		fmt.Fprint(os.Stderr, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// needStrata returns the strata binary or fails the test with the build error.
func needStrata(t testing.TB) string {
	t.Helper()
	if strataBuildErr != nil {
		t.Fatal(strataBuildErr)
	}
	return strataBin
}

// needEtcdctl returns the etcdctl binary or fails the test.
func needEtcdctl(t testing.TB) string {
	t.Helper()
	if etcdctlErr != nil {
		t.Fatal(etcdctlErr)
	}
	return etcdctlBin
}
