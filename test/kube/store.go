// Package kube runs Kubernetes against Strata: the scenario of kube_test.go
// on a kube-apiserver binary, and (storagepath/) Kubernetes' own
// TestEtcdStoragePath. This file starts the etcd API they store in.
package kube

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/strata-db/strata/endpoint"
)

// etcdReadyTimeout bounds the start of the reference etcd.
const etcdReadyTimeout = 3 * time.Minute

// StartStore starts the etcd API to store in, serving plain gRPC on a free
// port of 127.0.0.1: Strata on a fresh database of backend (sqlite, in dir;
// postgres or mysql, a database of its own on the server adminDSN names,
// dropped by stop), or for "etcd" a real embedded etcd, the reference.
func StartStore(dir, backend, adminDSN string) (addr string, stop func(), err error) {
	if backend == "etcd" {
		return startEtcd(filepath.Join(dir, "etcd"))
	}
	dsn, drop, err := datastore(dir, backend, adminDSN)
	if err != nil {
		return "", nil, err
	}
	srv, err := endpoint.New(context.Background(), endpoint.Config{ListenAddress: "127.0.0.1:0", Endpoint: dsn})
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("strata: %w", err)
	}
	return srv.Addr(), func() { _ = srv.Close(); drop() }, nil
}

func startEtcd(dir string) (string, func(), error) {
	c := embed.NewConfig()
	c.Dir = dir
	c.Logger, c.LogLevel, c.LogOutputs = "zap", "error", []string{"/dev/null"}
	u, _ := url.Parse("http://127.0.0.1:0")
	c.ListenClientUrls, c.AdvertiseClientUrls = []url.URL{*u}, []url.URL{*u}
	c.ListenPeerUrls, c.AdvertisePeerUrls = []url.URL{*u}, []url.URL{*u}
	c.InitialCluster = c.Name + "=" + u.String()
	e, err := embed.StartEtcd(c)
	if err != nil {
		return "", nil, fmt.Errorf("etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(etcdReadyTimeout):
		e.Close()
		return "", nil, fmt.Errorf("etcd: not ready after %v", etcdReadyTimeout)
	}
	return e.Clients[0].Addr().String(), e.Close, nil
}

// datastore is the DSN of a fresh database for backend, and a func that
// drops it. Strata creates a PostgreSQL or MySQL database named
// strata_kube_<random> on the server adminDSN names.
func datastore(dir, backend, adminDSN string) (dsn string, drop func(), err error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "strata_kube_" + hex.EncodeToString(b[:])
	switch backend {
	case "", "sqlite":
		return "sqlite://" + filepath.Join(dir, "state.db"), func() {}, nil
	case "postgres":
		dsn, err := replaceDB(adminDSN, "/"+name)
		return dsn, func() { dropDB("pgx", adminDSN, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") }, err
	case "mysql":
		dsn, err := replaceDB(adminDSN, "/"+name)
		return dsn, func() {
			dropDB("mysql", strings.TrimPrefix(adminDSN, "mysql://"), "DROP DATABASE IF EXISTS "+name)
		}, err
	default:
		return "", nil, fmt.Errorf("backend %q: want sqlite, postgres, mysql or etcd", backend)
	}
}

func dropDB(driver, admin, stmt string) {
	db, err := sql.Open(driver, admin)
	if err == nil {
		_, err = db.Exec(stmt)
		db.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kube: %s: %v\n", stmt, err)
	}
}

func replaceDB(dsn, path string) (string, error) {
	i := strings.Index(dsn, "://")
	if i < 0 {
		return "", fmt.Errorf("DSN %q: no scheme", dsn)
	}
	rest := dsn[i+3:]
	slash := strings.Index(rest, "/")
	if slash < 0 {
		return "", fmt.Errorf("DSN %q: no database part", dsn)
	}
	q := ""
	if j := strings.Index(rest, "?"); j >= 0 {
		q = rest[j:]
	}
	return dsn[:i+3] + rest[:slash] + path + q, nil
}

// AdminDSN is the server DSN of backend from the environment test/conformance/run
// sets (STRATA_TEST_POSTGRES, STRATA_TEST_MYSQL); empty for the others.
func AdminDSN(backend string) string {
	switch backend {
	case "postgres":
		return os.Getenv("STRATA_TEST_POSTGRES")
	case "mysql":
		return os.Getenv("STRATA_TEST_MYSQL")
	}
	return ""
}
