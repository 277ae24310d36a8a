package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/strata-db/strata/endpoint"
)

func serve(t *testing.T, dsn string) (*endpoint.Server, *clientv3.Client) {
	t.Helper()
	s, err := endpoint.New(context.Background(), endpoint.Config{ListenAddress: "127.0.0.1:0", Endpoint: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Addr()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// TestSnapshotSaveStatusRestore: a saved snapshot restores to a database
// a new server starts from, with the same keys and revision.
func TestSnapshotSaveStatusRestore(t *testing.T) {
	dir := t.TempDir()
	s, c := serve(t, "sqlite://"+filepath.Join(dir, "a.db"))
	ctx := context.Background()
	var rev int64
	for i := range 20 {
		resp, err := c.Put(ctx, fmt.Sprintf("k%02d", i), strings.Repeat("x", 100))
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	file := filepath.Join(dir, "snap.db")
	var out, errb bytes.Buffer
	if code := runSnapshot([]string{"save", file, "--endpoints", s.Addr()}, &out, &errb); code != 0 {
		t.Fatalf("save: %d %s", code, errb.String())
	}
	out.Reset()
	if code := runSnapshot([]string{"status", file, "--write-out", "json"}, &out, &errb); code != 0 {
		t.Fatalf("status: %d %s", code, errb.String())
	}
	if want := fmt.Sprintf(`"revision":%d,`, rev); !strings.Contains(out.String(), want) || !strings.Contains(out.String(), `"totalKey":20`) {
		t.Fatalf("status %s: want revision %d and 20 keys", out.String(), rev)
	}
	hkv, err := c.HashKV(ctx, s.Addr(), rev)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"hash":%d,`, hkv.Hash); !strings.Contains(out.String(), want) {
		t.Errorf("status %s: want the server's HashKV %d", out.String(), hkv.Hash)
	}

	restored := filepath.Join(dir, "b", "state.db")
	if code := runSnapshot([]string{"restore", file, "--endpoint", "sqlite://" + restored}, &out, &errb); code != 0 {
		t.Fatalf("restore: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := runSnapshot([]string{"restore", file, "--endpoint", "sqlite://" + restored}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "exists") {
		t.Fatalf("restore over an existing database: %d %s", code, errb.String())
	}
	_, c2 := serve(t, "sqlite://"+restored)
	resp, err := c2.Get(ctx, "k", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 20 || resp.Header.Revision != rev {
		t.Fatalf("restored: %d keys at revision %d, want 20 at %d", len(resp.Kvs), resp.Header.Revision, rev)
	}
}

// TestRestoreAcceptsEtcdctlLayout: a file with the SHA-256 appended (as
// etcdctl saves) restores; one with a wrong hash, or not SQLite, does not.
func TestRestoreAcceptsEtcdctlLayout(t *testing.T) {
	dir := t.TempDir()
	s, c := serve(t, "sqlite://"+filepath.Join(dir, "a.db"))
	if _, err := c.Put(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Snapshot(context.Background()) // etcdctl's layout: data then hash
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	_ = s
	good := filepath.Join(dir, "etcdctl.db")
	os.WriteFile(good, raw.Bytes(), 0o600)
	corrupt := append([]byte(nil), raw.Bytes()...)
	corrupt[len(corrupt)-1] ^= 1
	bad := filepath.Join(dir, "corrupt.db")
	os.WriteFile(bad, corrupt, 0o600)
	notSQLite := filepath.Join(dir, "bolt.db")
	os.WriteFile(notSQLite, []byte("not a database"), 0o600)
	var out, errb bytes.Buffer
	for file, ok := range map[string]bool{good: true, bad: false, notSQLite: false} {
		target := "sqlite://" + filepath.Join(dir, filepath.Base(file)+".restored")
		code := runSnapshot([]string{"restore", file, "--endpoint", target}, &out, &errb)
		if (code == 0) != ok {
			t.Errorf("restore %s: exit %d, %s", filepath.Base(file), code, errb.String())
		}
	}
}

func TestVersionFlag(t *testing.T) {
	var errb bytes.Buffer
	if code := run([]string{"--version"}, &errb); code != 0 {
		t.Fatalf("--version: %d %s", code, errb.String())
	}
	if v, c := buildVersion(); v == "" || c == "" {
		t.Fatalf("version %q commit %q", v, c)
	}
}
