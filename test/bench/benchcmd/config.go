package benchcmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultClients     = 64
	DefaultConns       = 8
	DefaultDuration    = 10 * time.Second
	DefaultRounds      = 3
	DefaultWatchers    = 200
	DefaultWatchRate   = 100
	DefaultWorkloads   = "put,range,txn,list,watch,k8s"
	defaultDialTimeout = 5 * time.Second
)

// Target is one endpoint to measure: Name labels it in the report.
type Target struct {
	Name     string
	Endpoint string
	// PID is the server's process, when strata-bench started it (for RSS).
	PID int
	// Metrics is the server's metrics/pprof address, if it has one.
	Metrics string
}

// Config is one benchmark run.
type Config struct {
	// Targets are the endpoints, the first being the baseline of ratios.
	Targets   []Target
	Workloads []string
	Clients   int
	Conns     int
	Duration  time.Duration
	Rounds    int
	// Watchers and WatchRate (puts per second) shape the watch workload.
	Watchers  int
	WatchRate int
	// Fresh, if set, starts new servers, one per target in the same order,
	// for a workload that measures a server holding its own load only
	// (mem: the memory with 100k keys, 1,000 watchers and 1,000 leases, not
	// with what the workloads before it left). stop ends them.
	Fresh func(ctx context.Context) (targets []Target, stop func() error, err error)
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if len(c.Targets) == 0 {
		return errors.New("benchcmd: no targets")
	}
	if len(c.Workloads) == 0 {
		c.Workloads = strings.Split(DefaultWorkloads, ",")
	}
	for _, w := range c.Workloads {
		if _, ok := workloads[w]; !ok {
			return fmt.Errorf("benchcmd: unknown workload %q (known: %s,mem)", w, DefaultWorkloads)
		}
	}
	if c.Clients <= 0 {
		c.Clients = DefaultClients
	}
	if c.Conns <= 0 {
		c.Conns = DefaultConns
	}
	if c.Duration <= 0 {
		c.Duration = DefaultDuration
	}
	if c.Rounds <= 0 {
		c.Rounds = DefaultRounds
	}
	if c.Watchers <= 0 {
		c.Watchers = DefaultWatchers
	}
	if c.WatchRate <= 0 {
		c.WatchRate = DefaultWatchRate
	}
	return nil
}

// ParseEndpoints parses name=host:port,... (a bare host:port is named by
// itself).
func ParseEndpoints(s string) ([]Target, error) {
	var out []Target
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, ep, ok := strings.Cut(part, "=")
		if !ok {
			name, ep = part, part
		}
		out = append(out, Target{Name: name, Endpoint: ep})
	}
	if len(out) == 0 {
		return nil, errors.New("benchcmd: no endpoints")
	}
	return out, nil
}
