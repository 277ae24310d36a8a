package endpoint

import (
	"context"
	"testing"

	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/server"
)

// TestBackendKeepsItsCapabilities guards the wiring: the engine, lessor and
// maintenance RPCs find the driver's optional capabilities by type
// assertion, which a wrapper type would silently hide (it once hid the
// compactor, and compaction never ran).
func TestBackendKeepsItsCapabilities(t *testing.T) {
	cfg := Config{Endpoint: "sqlite://" + t.TempDir() + "/state.db"}.WithDefaults()
	be, err := openBackend(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if _, ok := be.Backend.(kv.Compactor); !ok {
		t.Error("sqlite backend does not expose kv.Compactor")
	}
	if _, ok := be.Backend.(kv.LeaseClock); !ok {
		t.Error("sqlite backend does not expose kv.LeaseClock")
	}
	if asDefrag(be.size) == nil || asSnapshot(be.size) == nil {
		t.Error("sqlite maintenance does not expose Defragment and Snapshot")
	}
	var _ server.Sizer = be.size
	if be.usage == nil {
		t.Error("sqlite backend measures no usage: no quota would be enforced")
	}
}
