package multi

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

// instances is how many Strata servers share one database.
const instances = 3

// pollInterval is the watch poll period on MySQL, which has no notifier;
// PostgreSQL keeps the default period, so that its notifier is what wakes
// the other servers.
const pollInterval = 10 * time.Millisecond

// sharedBackends are the backends several servers can share.
var sharedBackends = []string{"postgres", "mysql"}

// cluster is several Strata servers on one database, a client each.
type cluster struct {
	backend   string
	endpoints []string
	clients   []*clientv3.Client
}

func startCluster(t *testing.T, backend string) *cluster {
	t.Helper()
	dsn := testserver.FreshDSN(t, backend)
	c := &cluster{backend: backend}
	for range instances {
		s := testserver.StartStrata(t, testserver.Options{Backend: backend, DSN: dsn, Configure: func(cfg *endpoint.Config) {
			if backend == "mysql" {
				cfg.PollInterval = pollInterval
			}
		}})
		c.endpoints = append(c.endpoints, s.Endpoint)
		c.clients = append(c.clients, s.Client(t))
	}
	return c
}

func forEachShared(t *testing.T, fn func(t *testing.T, c *cluster)) {
	for _, b := range sharedBackends {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			fn(t, startCluster(t, b))
		})
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
