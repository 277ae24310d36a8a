package endpoint

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/server"
)

// backend is an opened datastore.
type backend struct {
	kv.Backend
	size server.Sizer
	// identity is what names this datastore (for the cluster ID).
	identity string
}

// openBackend picks the driver for a DSN.
func openBackend(ctx context.Context, dsn string, log *slog.Logger) (*backend, error) {
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, fmt.Errorf("endpoint: datastore endpoint %q has no scheme; use sqlite://path", dsn)
	}
	switch scheme {
	case "sqlite":
		st, err := sqlite.Open(ctx, dsn, log)
		if err != nil {
			return nil, err
		}
		path, _, _ := sqlite.Path(dsn)
		return &backend{Backend: st, size: sqlite.Sizer{DB: st.DB()}, identity: "sqlite:" + path}, nil
	case "postgres", "postgresql", "mysql":
		return nil, fmt.Errorf("endpoint: the %s backend is not available in this version of strata yet; use sqlite://path", scheme)
	default:
		return nil, fmt.Errorf("endpoint: unknown datastore scheme %q in %q; use sqlite://path", scheme, dsn)
	}
}
