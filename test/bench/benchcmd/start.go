package benchcmd

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// ServeArg is the hidden first argument that makes strata-bench serve one
// target (etcd or Strata) instead of benchmarking: each target runs in a
// process of its own, started by StartTargets.
const ServeArg = "__serve"

const (
	startTimeout = 60 * time.Second
	stopTimeout  = 30 * time.Second
	adminTimeout = 30 * time.Second
)

// StartOptions say where Strata's shared-database backends live.
type StartOptions struct {
	// PostgresDSN and MySQLDSN are admin DSNs: a fresh database is made on
	// each for the run and dropped after.
	PostgresDSN, MySQLDSN string
	// Dir holds the data directories and logs (a temp dir if empty).
	Dir string
	// Log receives progress lines.
	Log io.Writer
}

// Started is the running targets; Stop ends them.
type Started struct {
	Targets []Target
	procs   []*exec.Cmd
	cleanup []func() error
}

// StartTargets starts each named target ("etcd", "strata-sqlite",
// "strata-postgres", "strata-mysql") as a child process of this binary.
func StartTargets(ctx context.Context, names []string, o StartOptions) (*Started, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "strata-bench-")
		if err != nil {
			return nil, err
		}
		o.Dir = d
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	st := &Started{}
	for _, name := range names {
		dir := filepath.Join(o.Dir, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			st.Stop()
			return nil, err
		}
		args, err := st.serveArgs(ctx, name, dir, o)
		if err != nil {
			st.Stop()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		t, err := st.spawn(self, name, dir, args)
		if err != nil {
			st.Stop()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(o.Log, "started %s (pid %d) on %s, metrics %s, log %s\n", name, t.PID, t.Endpoint, t.Metrics, filepath.Join(dir, "server.log"))
		st.Targets = append(st.Targets, t)
	}
	return st, nil
}

// serveArgs are the child's arguments: ServeArg, the kind, the data dir
// and the DSN.
func (st *Started) serveArgs(ctx context.Context, name, dir string, o StartOptions) ([]string, error) {
	switch name {
	case "etcd":
		return []string{ServeArg, "etcd", dir}, nil
	case "strata-sqlite":
		return []string{ServeArg, "strata", "sqlite://" + filepath.Join(dir, "state.db")}, nil
	case "strata-postgres":
		if o.PostgresDSN == "" {
			return nil, errors.New("needs --postgres-dsn")
		}
		dsn, drop, err := freshPostgres(ctx, o.PostgresDSN)
		if err != nil {
			return nil, err
		}
		st.cleanup = append(st.cleanup, drop)
		return []string{ServeArg, "strata", dsn}, nil
	case "strata-mysql":
		if o.MySQLDSN == "" {
			return nil, errors.New("needs --mysql-dsn")
		}
		dsn, drop, err := freshMySQL(ctx, o.MySQLDSN)
		if err != nil {
			return nil, err
		}
		st.cleanup = append(st.cleanup, drop)
		return []string{ServeArg, "strata", dsn}, nil
	}
	return nil, fmt.Errorf("unknown target (etcd, strata-sqlite, strata-postgres, strata-mysql)")
}

// spawn runs self with args and waits for its "READY endpoint metrics"
// line.
func (st *Started) spawn(self, name, dir string, args []string) (Target, error) {
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return Target{}, err
	}
	defer logf.Close()
	cmd := exec.Command(self, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Target{}, err
	}
	if err := cmd.Start(); err != nil {
		return Target{}, err
	}
	st.procs = append(st.procs, cmd)
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "READY" {
				ready <- f[1:]
			}
		}
		close(ready)
	}()
	select {
	case f, ok := <-ready:
		if !ok {
			return Target{}, fmt.Errorf("exited before ready (see %s)", logf.Name())
		}
		t := Target{Name: name, Endpoint: f[0], PID: cmd.Process.Pid}
		if len(f) > 1 {
			t.Metrics = f[1]
		}
		return t, nil
	case <-time.After(startTimeout):
		return Target{}, fmt.Errorf("not ready after %s (see %s)", startTimeout, logf.Name())
	}
}

// Stop ends the children (SIGTERM, then SIGKILL) and drops the databases
// made for them; it returns the first error.
func (st *Started) Stop() error {
	var first error
	for _, cmd := range st.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	for _, c := range st.cleanup {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func freshName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "strata_bench_" + hex.EncodeToString(b[:])
}

func freshPostgres(ctx context.Context, admin string) (string, func() error, error) {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer c.Close(context.Background())
	name := freshName()
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		return err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

func freshMySQL(ctx context.Context, admin string) (string, func() error, error) {
	mc, err := mysqldrv.ParseDSN(strings.TrimPrefix(admin, "mysql://"))
	if err != nil {
		return "", nil, err
	}
	mc.DBName = ""
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	name := freshName()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, err
	}
	drop := func() error {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
		return err
	}
	mc.DBName = name
	return "mysql://" + mc.FormatDSN(), drop, nil
}
