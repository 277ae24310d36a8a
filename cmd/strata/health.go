package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthTimeout bounds `strata health`.
const healthTimeout = 5 * time.Second

// subcommand returns the function of a subcommand, or nil.
func subcommand(name string) func(args []string, stdout, stderr io.Writer) int {
	switch name {
	case "snapshot":
		return runSnapshot
	case "health":
		return runHealth
	}
	return nil
}

// runHealth asks a server's /health (on its metrics address) and exits 0
// when it answers etcd's {"health":"true"}: a probe for containers, which
// have no curl.
func runHealth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://127.0.0.1:8080/health", "the server's /health URL (its --metrics-bind-address)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "strata health:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "strata health:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		fmt.Fprintf(stderr, "strata health: %s: %s\n", resp.Status, body)
		return 1
	}
	if h.Health != "true" {
		fmt.Fprintf(stderr, "strata health: unhealthy: %s\n", h.Reason)
		return 1
	}
	fmt.Fprintln(stdout, "healthy")
	return 0
}
