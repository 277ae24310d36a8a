//go:build strataconformance

// This file is Strata's runner for etcd's shared test cases
// (go.etcd.io/etcd/tests/v3/common). It is not compiled in this repository:
// test/conformance/run copies the upstream module into .cache/, drops the
// upstream unit-mode runner (common/unit_test.go, which declares the same
// names) and adds this file as common/zz_strata_runner_test.go.
//
// Every cluster is one fresh server, chosen by STRATA_CONFORMANCE_BACKEND:
// "etcd" (an embedded etcd, the reference) or a Strata backend ("sqlite",
// "postgres", "mysql"; the last two need STRATA_TEST_POSTGRES /
// STRATA_TEST_MYSQL). Tests that cannot run against one member, or need
// what this runner does not set up (client TLS), skip with the reason; the
// same skips apply to the reference, so scores compare.

package common

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	clientv3 "go.etcd.io/etcd/client/v3"
	etcdctlcmd "go.etcd.io/etcd/etcdctl/v3/ctlv3/command"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/tests/v3/framework/config"
	intf "go.etcd.io/etcd/tests/v3/framework/interfaces"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

// backendEnv names the server every cluster runs on.
const backendEnv = "STRATA_CONFORMANCE_BACKEND"

const (
	startTimeout = 30 * time.Second
	dialTimeout  = 5 * time.Second
)

// skipped are the top-level tests this runner cannot give what they need,
// with the reason. They skip on every backend, the reference included.
var skipped = map[string]string{
	"TestKVGetNoQuorum":         "multi-member: stops 2 of 3 members to lose quorum",
	"TestEndpointHashKV":        "multi-member: compares the hashes of 3 members",
	"TestMemberAdd":             "multi-member: adds members and waits for quorum with them",
	"TestAuthMemberRemove":      "multi-member: removes a member of a 3-member cluster with auth enabled",
	"TestMemberRemove":          "multi-member: removes members of a 3-member cluster",
	"TestWaitLeader_MemberStop": "multi-member: stops the leader and waits for another",
	"TestAuthority":             "multi-member and client TLS/unix sockets: checks the :authority header in the server's HTTP/2 debug log",
}

func init() {
	testRunner = strataRunner{}
	clusterTestCases = func() []testCase {
		return []testCase{{name: "NoTLS", config: config.ClusterConfig{ClusterSize: 1}}}
	}
}

// The client options, as the integration runner's: they edit a clientv3.Config.
func WithAuth(userName, password string) config.ClientOption {
	return func(c any) {
		cfg := c.(*clientv3.Config)
		cfg.Username, cfg.Password = userName, password
	}
}

func WithAuthToken(token string) config.ClientOption {
	return func(c any) { c.(*clientv3.Config).Token = token }
}

func WithEndpoints(endpoints []string) config.ClientOption {
	return func(c any) { c.(*clientv3.Config).Endpoints = endpoints }
}

func WithHTTP2Debug() config.ClusterOption { return func(*config.ClusterConfig) {} }
func WithTCPClient() config.ClusterOption  { return func(*config.ClusterConfig) {} }
func WithUnixClient() config.ClusterOption { return func(*config.ClusterConfig) {} }

type strataRunner struct{}

var _ intf.TestRunner = strataRunner{}

func (strataRunner) TestMain(m *testing.M) { os.Exit(m.Run()) }

func (strataRunner) BeforeTest(tb testing.TB) {
	name, _, _ := strings.Cut(tb.Name(), "/")
	if why, ok := skipped[name]; ok {
		tb.Skip(why)
	}
}

func (strataRunner) NewCluster(ctx context.Context, tb testing.TB, opts ...config.ClusterOption) intf.Cluster {
	tb.Helper()
	cfg := config.NewClusterConfig(opts...)
	if cfg.ClientTLS != config.NoTLS {
		tb.Skipf("client TLS (%s): not set up by this runner", cfg.ClientTLS)
	}
	backend := os.Getenv(backendEnv)
	if backend == "" {
		backend = "sqlite"
	}
	m := &member{tb: tb, backend: backend, cfg: cfg}
	if backend == "etcd" {
		m.dir = tb.TempDir()
	} else {
		m.dsn = testserver.FreshDSN(tb, backend)
	}
	if err := m.Start(ctx); err != nil {
		tb.Fatalf("start %s: %v", backend, err)
	}
	c := &cluster{tb: tb, m: m}
	tb.Cleanup(func() { c.Close() })
	return c
}

type cluster struct {
	tb testing.TB
	m  *member

	mu      sync.Mutex
	clients []*clientv3.Client
}

func (c *cluster) Members() []intf.Member { return []intf.Member{c.m} }

func (c *cluster) Endpoints() []string { return []string{c.m.addr} }

func (c *cluster) WaitLeader(testing.TB) int { return 0 }

func (c *cluster) Client(opts ...config.ClientOption) (intf.Client, error) {
	cfg := clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: dialTimeout, Logger: zap.NewNop()}
	for _, o := range opts {
		o(&cfg)
	}
	cc, err := clientv3.New(cfg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.clients = append(c.clients, cc)
	c.mu.Unlock()
	return client{cc}, nil
}

func (c *cluster) Close() error {
	c.mu.Lock()
	for _, cc := range c.clients {
		cc.Close()
	}
	c.clients = nil
	c.mu.Unlock()
	c.m.Stop()
	return nil
}

// member is the one server of a cluster. A restart keeps its data and its
// address, so clients reconnect to it.
type member struct {
	tb      testing.TB
	backend string
	cfg     config.ClusterConfig
	dsn     string // Strata
	dir     string // etcd
	addr    string // host:port, fixed by the first start
	peer    string // etcd's peer URL, fixed by the first start

	mu     sync.Mutex
	stop   func()
	client *clientv3.Client
}

func (m *member) Client() intf.Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil {
		cc, err := clientv3.New(clientv3.Config{Endpoints: []string{m.addr}, DialTimeout: dialTimeout, Logger: zap.NewNop()})
		if err != nil {
			m.tb.Fatalf("member client: %v", err)
		}
		m.client = cc
		m.tb.Cleanup(func() { cc.Close() })
	}
	return client{m.client}
}

func (m *member) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != nil {
		return nil
	}
	if m.backend == "etcd" {
		return m.startEtcd()
	}
	return m.startStrata(ctx)
}

func (m *member) startStrata(ctx context.Context) error {
	listen := m.addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	srv, err := endpoint.New(ctx, endpoint.Config{ListenAddress: listen, Endpoint: m.dsn,
		QuotaBackendBytes: m.cfg.QuotaBackendBytes, AuthToken: m.cfg.AuthToken})
	if err != nil {
		return err
	}
	m.addr = srv.Addr()
	m.stop = func() {
		if err := srv.Close(); err != nil {
			m.tb.Errorf("strata close: %v", err)
		}
	}
	return nil
}

func (m *member) startEtcd() error {
	if m.addr == "" {
		m.addr, m.peer = freeAddr(m.tb), "http://"+freeAddr(m.tb)
	}
	cfg := embed.NewConfig()
	cfg.Dir = m.dir
	cfg.Logger, cfg.LogLevel, cfg.LogOutputs = "zap", "error", []string{"/dev/null"}
	cu, _ := url.Parse("http://" + m.addr)
	pu, _ := url.Parse(m.peer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	cfg.QuotaBackendBytes = m.cfg.QuotaBackendBytes
	if m.cfg.AuthToken != "" {
		cfg.AuthToken = m.cfg.AuthToken
	}
	if m.cfg.SnapshotCount != 0 {
		cfg.SnapshotCount = m.cfg.SnapshotCount
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(startTimeout):
		e.Close()
		return fmt.Errorf("etcd not ready after %v", startTimeout)
	}
	m.stop = e.Close
	return nil
}

func (m *member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stop != nil {
		m.stop()
		m.stop = nil
	}
}

func freeAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// client adapts clientv3 to the interfaces' Client. The methods whose
// signatures match (Grant, Leases, Revoke, the user and role calls, ...)
// come from the embedded *clientv3.Client.
type client struct{ *clientv3.Client }

var _ intf.Client = client{}

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d == 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

func (c client) Get(ctx context.Context, key string, o config.GetOptions) (*clientv3.GetResponse, error) {
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	var ops []clientv3.OpOption
	add := func(cond bool, op clientv3.OpOption) {
		if cond {
			ops = append(ops, op)
		}
	}
	add(o.Revision != 0, clientv3.WithRev(int64(o.Revision)))
	add(o.End != "", clientv3.WithRange(o.End))
	add(o.Serializable, clientv3.WithSerializable())
	add(o.Prefix, clientv3.WithPrefix())
	add(o.FromKey, clientv3.WithFromKey())
	add(o.Limit != 0, clientv3.WithLimit(int64(o.Limit)))
	add(o.CountOnly, clientv3.WithCountOnly())
	add(o.KeysOnly, clientv3.WithKeysOnly())
	add(o.SortBy != clientv3.SortByKey || o.Order != clientv3.SortNone, clientv3.WithSort(o.SortBy, o.Order))
	add(o.MinModRevision != 0, clientv3.WithMinModRev(int64(o.MinModRevision)))
	add(o.MaxModRevision != 0, clientv3.WithMaxModRev(int64(o.MaxModRevision)))
	add(o.MinCreateRevision != 0, clientv3.WithMinCreateRev(int64(o.MinCreateRevision)))
	add(o.MaxCreateRevision != 0, clientv3.WithMaxCreateRev(int64(o.MaxCreateRevision)))
	if o.Stream {
		s, err := c.Client.GetStream(ctx, key, ops...)
		if err != nil {
			return nil, err
		}
		return clientv3.GetStreamToGetResponse(s)
	}
	return c.Client.Get(ctx, key, ops...)
}

func (c client) Put(ctx context.Context, key, value string, o config.PutOptions) (*clientv3.PutResponse, error) {
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	var ops []clientv3.OpOption
	if o.LeaseID != 0 {
		ops = append(ops, clientv3.WithLease(o.LeaseID))
	}
	return c.Client.Put(ctx, key, value, ops...)
}

func (c client) Delete(ctx context.Context, key string, o config.DeleteOptions) (*clientv3.DeleteResponse, error) {
	var ops []clientv3.OpOption
	switch {
	case o.Prefix:
		ops = append(ops, clientv3.WithPrefix())
	case o.FromKey:
		ops = append(ops, clientv3.WithFromKey())
	case o.End != "":
		ops = append(ops, clientv3.WithRange(o.End))
	}
	return c.Client.Delete(ctx, key, ops...)
}

func (c client) Compact(ctx context.Context, rev int64, o config.CompactOption) (*clientv3.CompactResponse, error) {
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	var ops []clientv3.CompactOption
	if o.Physical {
		ops = append(ops, clientv3.WithCompactPhysical())
	}
	return c.Client.Compact(ctx, rev, ops...)
}

func (c client) Status(ctx context.Context) ([]*clientv3.StatusResponse, error) {
	var out []*clientv3.StatusResponse
	for _, ep := range c.Endpoints() {
		r, err := c.Client.Status(ctx, ep)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c client) HashKV(ctx context.Context, rev int64) ([]*clientv3.HashKVResponse, error) {
	var out []*clientv3.HashKVResponse
	for _, ep := range c.Endpoints() {
		r, err := c.Client.HashKV(ctx, ep, rev)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (c client) Health(ctx context.Context) error {
	r, err := healthpb.NewHealthClient(c.ActiveConnection()).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if r.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health: %s, want SERVING", r.Status)
	}
	return nil
}

func (c client) Defragment(ctx context.Context, o config.DefragOption) error {
	ctx, cancel := withTimeout(ctx, o.Timeout)
	defer cancel()
	for _, ep := range c.Endpoints() {
		if _, err := c.Client.Defragment(ctx, ep); err != nil {
			return err
		}
	}
	return nil
}

func (c client) TimeToLive(ctx context.Context, id clientv3.LeaseID, o config.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	var ops []clientv3.LeaseOption
	if o.WithAttachedKeys {
		ops = append(ops, clientv3.WithAttachedKeys())
	}
	return c.Client.TimeToLive(ctx, id, ops...)
}

func (c client) AuthEnable(ctx context.Context) error {
	_, err := c.Client.AuthEnable(ctx)
	return err
}

func (c client) AuthDisable(ctx context.Context) error {
	_, err := c.Client.AuthDisable(ctx)
	return err
}

func (c client) UserAdd(ctx context.Context, name, password string, o config.UserAddOptions) (*clientv3.AuthUserAddResponse, error) {
	return c.Client.UserAddWithOptions(ctx, name, password, &clientv3.UserAddOptions{NoPassword: o.NoPassword})
}

func (c client) UserChangePass(ctx context.Context, user, newPass string) error {
	_, err := c.Client.UserChangePassword(ctx, user, newPass)
	return err
}

// Txn takes etcdctl's syntax: compares as `txn` reads them, operations as
// "get k", "put k v" or "del k".
func (c client) Txn(ctx context.Context, compares, ifSucc, ifFail []string, _ config.TxnOptions) (*clientv3.TxnResponse, error) {
	var cmps []clientv3.Cmp
	for _, s := range compares {
		cmp, err := etcdctlcmd.ParseCompare(s)
		if err != nil {
			return nil, err
		}
		cmps = append(cmps, *cmp)
	}
	succ, err := txnOps(ifSucc)
	if err != nil {
		return nil, err
	}
	fail, err := txnOps(ifFail)
	if err != nil {
		return nil, err
	}
	return c.Client.Txn(ctx).If(cmps...).Then(succ...).Else(fail...).Commit()
}

func txnOps(lines []string) ([]clientv3.Op, error) {
	var ops []clientv3.Op
	for _, l := range lines {
		a := etcdctlcmd.Argify(strings.TrimSpace(l))
		switch {
		case len(a) == 2 && a[0] == "get":
			ops = append(ops, clientv3.OpGet(a[1]))
		case len(a) == 3 && a[0] == "put":
			ops = append(ops, clientv3.OpPut(a[1], a[2]))
		case len(a) == 2 && a[0] == "del":
			ops = append(ops, clientv3.OpDelete(a[1]))
		default:
			return nil, fmt.Errorf("txn op %q: want get K, put K V or del K", l)
		}
	}
	return ops, nil
}

func (c client) Watch(ctx context.Context, key string, o config.WatchOptions) clientv3.WatchChan {
	var ops []clientv3.OpOption
	if o.Prefix {
		ops = append(ops, clientv3.WithPrefix())
	}
	if o.Revision != 0 {
		ops = append(ops, clientv3.WithRev(o.Revision))
	}
	if o.RangeEnd != "" {
		ops = append(ops, clientv3.WithRange(o.RangeEnd))
	}
	return c.Client.Watch(ctx, key, ops...)
}

func (c client) MemberList(ctx context.Context, serializable bool) (*clientv3.MemberListResponse, error) {
	if serializable {
		return c.Client.MemberList(ctx, clientv3.WithSerializable())
	}
	return c.Client.MemberList(ctx)
}

func (c client) MemberAdd(ctx context.Context, _ string, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return c.Client.MemberAdd(ctx, peerAddrs)
}

func (c client) MemberAddAsLearner(ctx context.Context, _ string, peerAddrs []string) (*clientv3.MemberAddResponse, error) {
	return c.Client.MemberAddAsLearner(ctx, peerAddrs)
}

func (c client) MemberRemove(ctx context.Context, id uint64) (*clientv3.MemberRemoveResponse, error) {
	return c.Client.MemberRemove(ctx, id)
}
