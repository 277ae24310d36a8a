package lease

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the lessor's counters, under etcd's names where the meaning
// is the same.
type metrics struct {
	granted, revoked, renewed, expired prometheus.Counter
	// expirer is 1 while this process holds the expirer lock.
	expirer prometheus.Gauge
	// queued is the leases this process's expirer watches.
	queued prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, queued func() float64) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		granted: counter("etcd_debugging_lease_granted_total", "The total number of granted leases."),
		revoked: counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases."),
		renewed: counter("etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader."),
		expired: counter("strata_lease_expired_total", "Leases this process revoked because they expired."),
		expirer: prometheus.NewGauge(prometheus.GaugeOpts{Name: "strata_lease_expirer",
			Help: "1 while this process is the one that expires leases."}),
		queued: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "strata_lease_queued",
			Help: "Leases in this process's expiry queue (0 unless it is the expirer)."}, queued),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.granted, m.revoked, m.renewed, m.expired, m.expirer, m.queued} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("lease: register metrics: %w", err)
		}
	}
	return m, nil
}
