package watchpoll

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's gauges and counters. Names follow etcd's where the
// meaning is the same.
type metrics struct {
	watchers     prometheus.Gauge
	slowWatchers prometheus.Gauge
	streams      prometheus.Gauge
	pending      prometheus.Gauge
	events       prometheus.Counter
	polls        prometheus.Counter
	memoryPolls  prometheus.Counter
	catchUpReads prometheus.Counter
	compacted    prometheus.Counter
	pollRevision prometheus.Gauge
	pollDuration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etcd_debugging_mvcc_watcher_total", Help: "Total number of watchers."}),
		slowWatchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etcd_debugging_mvcc_slow_watcher_total", Help: "Total number of unsynced slow watchers."}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etcd_debugging_mvcc_watch_stream_total", Help: "Total number of watch streams."}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "etcd_debugging_mvcc_pending_events_total", Help: "Total number of pending events to be sent."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_watch_events_sent_total", Help: "Events queued for watchers, live and catch-up."}),
		polls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_watch_polls_total", Help: "Reads of the log by the watch poller."}),
		memoryPolls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_watch_memory_polls_total", Help: "Polls answered from the backend's memory of its latest commits, without a read of the log."}),
		catchUpReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_watch_catchup_reads_total", Help: "Reads of the log on behalf of slow watchers."}),
		compacted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "strata_watch_compacted_total", Help: "Watchers cancelled because their next revision was compacted."}),
		pollRevision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "strata_watch_poll_revision", Help: "Revision through which the poller has delivered events."}),
		pollDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_watch_poll_duration_seconds", Help: "Time of one poll: read and fan-out.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.watchers, m.slowWatchers, m.streams, m.pending, m.events,
		m.polls, m.memoryPolls, m.catchUpReads, m.compacted, m.pollRevision, m.pollDuration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("watchpoll: register metrics: %w", err)
		}
	}
	return m, nil
}
