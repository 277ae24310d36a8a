package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/strata-db/strata/endpoint"
)

func TestHealthSubcommand(t *testing.T) {
	s, err := endpoint.New(context.Background(), endpoint.Config{ListenAddress: "127.0.0.1:0",
		Endpoint: "sqlite://" + filepath.Join(t.TempDir(), "state.db"), MetricsAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runHealth([]string{"--url", "http://" + s.MetricsAddr() + "/health"}, &out, &errb); code != 0 {
		t.Fatalf("healthy server: exit %d %s", code, errb.String())
	}
	addr := s.MetricsAddr()
	s.Close()
	if code := runHealth([]string{"--url", "http://" + addr + "/health"}, &out, &errb); code != 1 {
		t.Fatalf("stopped server: exit %d", code)
	}
}
