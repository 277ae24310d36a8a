package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// scrapeTimeout bounds the database reads one scrape makes.
const scrapeTimeout = 5 * time.Second

// metrics are the server's gauges, under etcd's names: a single member is
// always its own leader.
type metrics struct {
	hasLeader     prometheus.Gauge
	isLeader      prometheus.Gauge
	leaderChanges prometheus.Counter
	quotaBytes    prometheus.Gauge
	quotaUsage    prometheus.Gauge
	version       *prometheus.GaugeVec
	alarms        *prometheus.GaugeVec
}

func newMetrics(s *Server, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		hasLeader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_has_leader",
			Help: "Whether or not a leader exists. 1 is existence, 0 is not."}),
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_is_leader",
			Help: "Whether or not this member is a leader. 1 if is, 0 otherwise."}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{Name: "etcd_server_leader_changes_seen_total",
			Help: "The number of leader changes seen."}),
		quotaBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "etcd_server_quota_backend_bytes",
			Help: "Current backend storage quota size in bytes."}),
		quotaUsage: prometheus.NewGauge(prometheus.GaugeOpts{Name: "strata_quota_usage_bytes",
			Help: "The usage the quota is held against (keys and values of every revision kept, plus etcd's per-write overheads), as last measured; measured only while a quota is enforced."}),
		version: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "etcd_server_version",
			Help: "Which version is running. 1 for 'server_version' label with current version."}, []string{"server_version"}),
		alarms: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "etcd_debugging_server_alarms",
			Help: "Alarms for every member in cluster. 1 for 'server_id' label with current ID. 2 for 'alarm_type' label with type of this alarm"},
			[]string{"member_id", "alarm_type"}),
	}
	m.hasLeader.Set(1)
	m.isLeader.Set(1)
	m.leaderChanges.Inc() // a single member elects itself once, at start
	m.quotaBytes.Set(float64(s.quotaReported()))
	m.version.WithLabelValues(s.cfg.Version).Set(1)
	m.alarms.WithLabelValues(strconv.FormatUint(s.cfg.MemberID, 16), pb.AlarmType_NOSPACE.String()).Set(0)
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hasLeader, m.isLeader, m.leaderChanges, m.quotaBytes,
		m.quotaUsage, m.version, m.alarms, &dbCollector{s: s}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	return m, nil
}

// alarmChanged keeps etcd_debugging_server_alarms in step with the alarms.
func (m *metrics) alarmChanged(a *pb.AlarmMember, delta int) {
	m.alarms.WithLabelValues(strconv.FormatUint(a.MemberID, 16), a.Alarm.String()).Add(float64(delta))
}

// quotaMeasured keeps strata_quota_usage_bytes at the quota's last measure.
func (m *metrics) quotaMeasured(bytes int64) { m.quotaUsage.Set(float64(bytes)) }

// dbCollector reads the database size and key count at scrape time.
type dbCollector struct{ s *Server }

var (
	dbTotalDesc = prometheus.NewDesc("etcd_mvcc_db_total_size_in_bytes",
		"Total size of the underlying database physically allocated in bytes.", nil, nil)
	dbInUseDesc = prometheus.NewDesc("etcd_mvcc_db_total_size_in_use_in_bytes",
		"Total size of the underlying database logically in use in bytes.", nil, nil)
	keysDesc = prometheus.NewDesc("etcd_debugging_mvcc_keys_total", "Total number of keys.", nil, nil)
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dbTotalDesc
	ch <- dbInUseDesc
	ch <- keysDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if c.s.size != nil {
		if total, inUse, err := c.s.size.Size(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(dbTotalDesc, prometheus.GaugeValue, float64(total))
			ch <- prometheus.MustNewConstMetric(dbInUseDesc, prometheus.GaugeValue, float64(inUse))
		} else {
			c.s.log.Warn("metrics: reading the database size failed", "err", err)
		}
	}
	all := &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true}
	if resp, err := c.s.store.Range(ctx, all); err == nil {
		ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(resp.Count))
	} else {
		c.s.log.Warn("metrics: counting keys failed", "err", err)
	}
}
