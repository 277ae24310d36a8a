package endpoint

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/pkg/mvcc"
	"github.com/strata-db/strata/pkg/server"
	"github.com/strata-db/strata/watchpoll"
)

// watchHub adapts the watch poller's hub to the Watch service.
type watchHub struct{ *watchpoll.Hub }

func (h watchHub) NewWatchStream() server.WatchStream { return h.Hub.NewStream() }

// startWatch starts the process's watch poller over the driver's backend
// (so that a kv.Notifier is seen), woken by the store's local commits.
func startWatch(ctx context.Context, cfg Config, be *backend, store *mvcc.Store, reg prometheus.Registerer) (*watchpoll.Hub, error) {
	return watchpoll.New(ctx, watchpoll.Config{
		Backend:                be.Backend,
		Commits:                store.Commits(),
		PollInterval:           cfg.PollInterval,
		ProgressNotifyInterval: cfg.ProgressNotifyInterval,
		Logger:                 cfg.Logger,
		Registerer:             reg,
	})
}
