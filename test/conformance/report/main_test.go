package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRunBySubtest: scored by subtest, every innermost subtest counts
// (names may hold slashes), and so does a test that failed on its own.
func TestReadRunBySubtest(t *testing.T) {
	events := []string{
		`{"Action":"run","Test":"TestPath"}`,
		`{"Action":"run","Test":"TestPath/1.36"}`,
		`{"Action":"run","Test":"TestPath/1.36//v1,_Resource=pods"}`,
		`{"Action":"pass","Test":"TestPath/1.36//v1,_Resource=pods"}`,
		`{"Action":"run","Test":"TestPath/1.36/apps/v1,_Resource=deployments"}`,
		`{"Action":"output","Test":"TestPath/1.36/apps/v1,_Resource=deployments","Output":"    x_test.go:1: Error: not found\n"}`,
		`{"Action":"fail","Test":"TestPath/1.36/apps/v1,_Resource=deployments"}`,
		`{"Action":"run","Test":"TestPath/1.36/apps/v1,_Resource=daemonsets"}`,
		`{"Action":"skip","Test":"TestPath/1.36/apps/v1,_Resource=daemonsets"}`,
		`{"Action":"fail","Test":"TestPath/1.36"}`,
		`{"Action":"run","Test":"TestPath/1.35"}`,
		`{"Action":"run","Test":"TestPath/1.35//v1,_Resource=pods"}`,
		`{"Action":"pass","Test":"TestPath/1.35//v1,_Resource=pods"}`,
		`{"Action":"output","Test":"TestPath/1.35","Output":"    x_test.go:2: etcd data does not match the types we saw\n"}`,
		`{"Action":"fail","Test":"TestPath/1.35"}`,
		`{"Action":"fail","Test":"TestPath"}`,
	}
	path := filepath.Join(t.TempDir(), "log.json")
	if err := os.WriteFile(path, []byte(strings.Join(events, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := readRun(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.line("kubepath", "sqlite"), "kubepath sqlite: 2 passed, 2 failed, 1 skipped"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	want := map[string]string{
		"TestPath/1.35": "etcd data does not match the types we saw",
		"TestPath/1.36/apps/v1,_Resource=deployments": "Error: not found",
	}
	for _, tt := range r.tests {
		if tt.status != failed {
			continue
		}
		if w, ok := want[tt.name]; !ok || tt.reason != w {
			t.Errorf("failed unit %s (%q) not expected", tt.name, tt.reason)
		}
	}
	if r, _ := readRun(path, false); r.line("x", "y") != "x y: 0 passed, 1 failed, 0 skipped" {
		t.Errorf("by top-level test: %s", r.line("x", "y"))
	}
}
