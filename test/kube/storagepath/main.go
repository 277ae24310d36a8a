// Command storagepath runs Kubernetes' own TestEtcdStoragePath
// (k8s.io/kubernetes/test/integration/etcd, a test binary built by ./run
// with go test -c) against a fresh store, and prints its go test -json.
//
//	storagepath -backend sqlite|postgres|mysql|etcd -test BINARY -dir DIR
//
// The store is Strata on a fresh database of the backend, or for "etcd" a
// real embedded etcd, the reference; the test finds it through
// KUBE_INTEGRATION_ETCD_URL, as with the etcd Kubernetes' integration
// tests usually run against. It runs in DIR, where the test expects
// ../../../staging/src/k8s.io/api/testdata. PostgreSQL and MySQL servers
// come from STRATA_TEST_POSTGRES and STRATA_TEST_MYSQL.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/strata-db/strata/test/kube"
)

// pkg is the import path go test -json names the events with.
const pkg = "k8s.io/kubernetes/test/integration/etcd"

func main() {
	var (
		backend = flag.String("backend", "sqlite", "sqlite, postgres, mysql, or etcd (the reference)")
		bin     = flag.String("test", "", "the test binary of "+pkg)
		dir     = flag.String("dir", ".", "directory to run the test in")
		run     = flag.String("run", "^TestEtcdStoragePath$", "go test -run regexp")
		timeout = flag.String("timeout", "30m", "go test -timeout")
	)
	flag.Parse()
	code, err := runTest(*backend, *bin, *dir, *run, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storagepath:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// runTest starts the store, runs the test binary on it through go tool
// test2json, and returns the test's exit code.
func runTest(backend, bin, dir, run, timeout string) (int, error) {
	if bin == "" {
		return 2, errors.New("-test names no test binary")
	}
	tmp, err := os.MkdirTemp("", "strata-storagepath-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	addr, stop, err := kube.StartStore(tmp, backend, kube.AdminDSN(backend))
	if err != nil {
		return 1, err
	}
	defer stop()
	cmd := exec.Command("go", "tool", "test2json", "-t", "-p", pkg,
		bin, "-test.v=test2json", "-test.run", run, "-test.timeout", timeout)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUBE_INTEGRATION_ETCD_URL=http://"+addr)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
