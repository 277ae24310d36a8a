package endpoint

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// etcdNames are the etcd metrics Strata exports with etcd's meaning.
var etcdNames = []string{
	"etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_leader_changes_seen_total",
	"etcd_server_quota_backend_bytes", "etcd_server_version", "etcd_debugging_server_alarms",
	"etcd_mvcc_db_total_size_in_bytes", "etcd_mvcc_db_total_size_in_use_in_bytes",
	"etcd_debugging_mvcc_keys_total", "etcd_mvcc_put_total", "etcd_mvcc_delete_total",
	"etcd_mvcc_range_total", "etcd_mvcc_txn_total", "etcd_disk_backend_commit_duration_seconds",
	"etcd_debugging_mvcc_slow_watcher_total", "etcd_debugging_mvcc_watcher_total",
	"etcd_debugging_lease_granted_total", "etcd_debugging_lease_revoked_total", "etcd_debugging_lease_renewed_total",
	"grpc_server_handled_total", "grpc_server_handling_seconds", "grpc_server_started_total",
	"process_resident_memory_bytes", "go_goroutines",
}

// strataNames are Strata's own.
var strataNames = []string{
	"strata_mvcc_group_commit_operations", "strata_sql_duration_seconds", "strata_watch_poll_revision",
	"strata_lease_expirer", "strata_lease_queued", "strata_auto_compactions_total", "strata_quota_usage_bytes",
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// families returns the metric family names of a /metrics page.
func families(page string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(page))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = true
		}
	}
	return out
}

func startObserved(t *testing.T) (*Server, *clientv3.Client) {
	t.Helper()
	s := startTest(t, Config{MetricsAddress: "127.0.0.1:0", EnablePprof: true,
		AutoCompactionMode: "revision", AutoCompactionRetention: "1000"})
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Addr()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if _, err := c.Put(ctx, "a", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Grant(ctx, 60); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// TestMetricsEndpoint scrapes /metrics and checks etcd's and Strata's
// names are there.
func TestMetricsEndpoint(t *testing.T) {
	s, _ := startObserved(t)
	code, page := get(t, "http://"+s.MetricsAddr()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	have := families(page)
	for _, n := range append(etcdNames, strataNames...) {
		if !have[n] {
			t.Errorf("/metrics lacks %s", n)
		}
	}
	for _, want := range []string{"etcd_server_has_leader 1", "etcd_mvcc_put_total 1", "etcd_mvcc_delete_total 1",
		"etcd_debugging_lease_granted_total 1", `etcd_server_quota_backend_bytes 2.147483648e+09`,
		`grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1`} {
		if !strings.Contains(page, want+"\n") {
			t.Errorf("/metrics lacks the line %q", want)
		}
	}
}

// TestAlertRulesUseExportedMetrics: every metric an alert rule of
// docs/prometheus/alerts.yaml reads is one Strata exports.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("../docs/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := startObserved(t)
	_, page := get(t, "http://"+s.MetricsAddr()+"/metrics")
	have := families(page)
	have["up"] = true // Prometheus's own series for each target
	ident := regexp.MustCompile(`\b(up|(?:etcd|grpc|strata|process|go)_[a-zA-Z0-9_]+)\b`)
	labels := regexp.MustCompile(`\{[^}]*\}|\b(?:without|by)\s*\([^)]*\)`)
	exprs := 0
	for _, expr := range ruleExprs(string(rules)) {
		exprs++
		expr = labels.ReplaceAllString(expr, "")
		for _, name := range ident.FindAllString(expr, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && have[b] {
					base = b
				}
			}
			if !have[base] {
				t.Errorf("alert expression reads %s, which Strata does not export:\n%s", name, expr)
			}
		}
	}
	if exprs < 10 {
		t.Fatalf("found only %d alert expressions", exprs)
	}
}

// ruleExprs returns the expr blocks of a rules file (each `expr: |`
// followed by more-indented lines, or `expr: text` on one line).
func ruleExprs(doc string) []string {
	var out []string
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		rest, ok := strings.CutPrefix(trimmed, "expr:")
		if !ok {
			continue
		}
		if rest = strings.TrimSpace(rest); rest != "|" && rest != ">" {
			out = append(out, rest)
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		var b strings.Builder
		for i+1 < len(lines) {
			next := lines[i+1]
			if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
				break
			}
			b.WriteString(next + "\n")
			i++
		}
		out = append(out, b.String())
	}
	return out
}

// TestHealthEndpoints: /health answers etcd's JSON and turns unhealthy
// with etcd's reason while NOSPACE is raised (unless excluded); /readyz,
// /livez and pprof answer.
func TestHealthEndpoints(t *testing.T) {
	s, c := startObserved(t)
	base := "http://" + s.MetricsAddr()
	if code, body := get(t, base+"/health"); code != http.StatusOK || body != `{"health":"true","reason":""}` {
		t.Fatalf("/health: %d %s", code, body)
	}
	for _, path := range []string{"/readyz", "/livez", "/readyz?verbose", "/debug/pprof/"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	ctx := context.Background()
	st, err := c.Status(ctx, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil { // a no-op
		t.Fatal(err)
	}
	raise := &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: st.Header.MemberId, Alarm: pb.AlarmType_NOSPACE}
	if _, err := pb.NewMaintenanceClient(c.ActiveConnection()).Alarm(ctx, raise); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, base+"/health"); code != http.StatusServiceUnavailable || strings.TrimSpace(body) != `{"health":"false","reason":"ALARM NOSPACE"}` {
		t.Errorf("/health with NOSPACE: %d %s", code, body)
	}
	if code, body := get(t, base+"/health?exclude=NOSPACE"); code != http.StatusOK {
		t.Errorf("/health excluding NOSPACE: %d %s", code, body)
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz with NOSPACE (only CORRUPT makes it unready, as etcd): %d", code)
	}
	if _, page := get(t, base+"/metrics"); !strings.Contains(page, `alarm_type="NOSPACE"`) {
		t.Error("etcd_debugging_server_alarms does not show NOSPACE")
	}
}

// TestMetricsAddressTaken: a metrics address another process holds does
// not stop the server (as kine); it serves without metrics.
func TestMetricsAddressTaken(t *testing.T) {
	first := startTest(t, Config{MetricsAddress: "127.0.0.1:0"})
	second := startTest(t, Config{MetricsAddress: first.MetricsAddr()})
	if second.MetricsAddr() != "" {
		t.Fatalf("second server serves metrics on %s", second.MetricsAddr())
	}
	if err := tryPut(second.Addr(), nil); err != nil {
		t.Fatal(err)
	}
}
