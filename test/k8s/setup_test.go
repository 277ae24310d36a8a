package k8s

import (
	"context"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"k8s.io/apimachinery/pkg/api/apitesting"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/apis/example"
	examplev1 "k8s.io/apiserver/pkg/apis/example/v1"
	"k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/etcd3"
	storagetesting "k8s.io/apiserver/pkg/storage/testing"
	"k8s.io/apiserver/pkg/storage/value"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/utils/clock"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

const (
	backendEnv = "STRATA_CONFORMANCE_BACKEND"
	// storedPrefix is what the test transformer prepends to stored values.
	storedPrefix = "test!"
	// maxListLimit is etcd3's cap on the page size it asks for (the
	// unexported maxLimit of k8s.io/apiserver/pkg/storage/etcd3).
	maxListLimit = 10000
	// compactRevKey is where etcd3.Compact records the last compaction.
	compactRevKey = "compact_rev_key"
	dialTimeout   = 10 * time.Second
	startTimeout  = 60 * time.Second
)

var (
	scheme = runtime.NewScheme()
	codecs = serializer.NewCodecFactory(scheme)
)

func init() {
	metav1.AddToGroupVersion(scheme, metav1.SchemeGroupVersion)
	utilruntime.Must(example.AddToScheme(scheme))
	utilruntime.Must(examplev1.AddToScheme(scheme))
}

// etcdStore is what etcd3.New returns, as far as these tests use it.
type etcdStore interface {
	storage.Interface
	CompactRevision() int64
	EnableResourceSizeEstimation(storage.KeysFunc) error
	Close()
}

// fixture is one test's server, client and store.
type fixture struct {
	ctx         context.Context
	store       etcdStore
	client      *kubernetes.Client
	codec       runtime.Codec
	transformer *swapTransformer
	prefix      *storagetesting.PrefixTransformer
}

type options struct {
	// progressInterval, if set, is the server's progress-notify period.
	progressInterval time.Duration
}

func setup(t *testing.T, opts ...func(*options)) *fixture {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	addr := startServer(t, o)
	client, err := kubernetes.New(clientv3.Config{
		Endpoints:   []string{addr},
		DialTimeout: dialTimeout,
		DialOptions: []grpc.DialOption{grpc.WithBlock()},
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	client.KV = storagetesting.NewKVRecorder(client.KV)
	client.Kubernetes = storagetesting.NewKubernetesRecorder(client.Kubernetes)

	codec := apitesting.TestCodec(codecs, examplev1.SchemeGroupVersion)
	prefix := storagetesting.NewPrefixTransformer([]byte(storedPrefix), false)
	tr := &swapTransformer{cur: prefix}
	compactor := etcd3.NewCompactor(client.Client, 0, clock.RealClock{}, nil)
	t.Cleanup(compactor.Stop)
	leases := etcd3.NewDefaultLeaseManagerConfig()
	leases.ReuseDurationSeconds = 1 // as upstream's tests: below the 30 s test timeout
	versioner := storage.APIObjectVersioner{}
	s, err := etcd3.New(client, compactor, codec,
		func() runtime.Object { return &example.Pod{} },
		func() runtime.Object { return &example.PodList{} },
		"", "/pods/", schema.GroupResource{Resource: "pods"},
		tr, leases, etcd3.NewDefaultDecoder(codec, versioner), versioner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &fixture{ctx: context.Background(), store: s, client: client, codec: codec, transformer: tr, prefix: prefix}
}

func withProgressInterval(d time.Duration) func(*options) {
	return func(o *options) { o.progressInterval = d }
}

// startServer starts a fresh server of the backend under test and returns
// its host:port.
func startServer(t *testing.T, o options) string {
	t.Helper()
	backend := os.Getenv(backendEnv)
	if backend == "" {
		backend = "sqlite"
	}
	if backend == "etcd" {
		return startEtcd(t, o)
	}
	s := testserver.StartStrata(t, testserver.Options{Backend: backend, Configure: func(c *endpoint.Config) {
		if o.progressInterval != 0 {
			c.ProgressNotifyInterval = o.progressInterval
		}
	}})
	return s.Endpoint
}

func startEtcd(t *testing.T, o options) string {
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.Logger, cfg.LogLevel, cfg.LogOutputs = "zap", "error", []string{"/dev/null"}
	u, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*u}, []url.URL{*u}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*u}, []url.URL{*u}
	cfg.InitialCluster = cfg.Name + "=" + u.String()
	if o.progressInterval != 0 {
		cfg.WatchProgressNotifyInterval = o.progressInterval
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(startTimeout):
		t.Fatal("etcd: not ready")
	}
	return e.Clients[0].Addr().String()
}

// swapTransformer lets a test replace the transformer the store uses (the
// store keeps this one): what upstream does by reaching into the store.
type swapTransformer struct {
	mu  sync.RWMutex
	cur value.Transformer
}

func (s *swapTransformer) get() value.Transformer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

func (s *swapTransformer) set(t value.Transformer) {
	s.mu.Lock()
	s.cur = t
	s.mu.Unlock()
}

func (s *swapTransformer) TransformFromStorage(ctx context.Context, data []byte, dc value.Context) ([]byte, bool, error) {
	return s.get().TransformFromStorage(ctx, data, dc)
}

func (s *swapTransformer) TransformToStorage(ctx context.Context, data []byte, dc value.Context) ([]byte, error) {
	return s.get().TransformToStorage(ctx, data, dc)
}

// withPrefixTransformer is the store as InterfaceWithPrefixTransformer.
type withPrefixTransformer struct {
	storage.Interface
	f *fixture
}

var _ storagetesting.InterfaceWithPrefixTransformer = withPrefixTransformer{}

func (f *fixture) prefixStore() withPrefixTransformer { return withPrefixTransformer{f.store, f} }

func (w withPrefixTransformer) UpdatePrefixTransformer(modify storagetesting.PrefixTransformerModifier) func() {
	orig := w.f.prefix
	cp := *orig
	w.f.transformer.set(modify(&cp))
	return func() { w.f.transformer.set(orig) }
}

// keyValidation checks what the store wrote under key: the transformer's
// prefix, then an object without resource version or self link.
func (f *fixture) keyValidation() storagetesting.KeyValidation {
	return func(ctx context.Context, t *testing.T, key string) {
		r, err := f.client.Client.Get(ctx, key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if len(r.Kvs) == 0 {
			t.Fatalf("get %s: no value", key)
		}
		obj, err := runtime.Decode(f.codec, r.Kvs[0].Value[len(storedPrefix):])
		if err != nil {
			t.Fatalf("decode %s: %v", key, err)
		}
		pod := obj.(*example.Pod)
		if pod.ResourceVersion != "" || pod.SelfLink != "" {
			t.Errorf("stored object has resourceVersion %q, selfLink %q; want both empty", pod.ResourceVersion, pod.SelfLink)
		}
	}
}

// callsValidation checks how many objects the transformer read and how many
// Gets the store made: 1, or for a paged list the doubling page sizes the
// store uses, capped at maxListLimit.
func (f *fixture) callsValidation() storagetesting.CallsValidation {
	return func(t *testing.T, pageSize, processed uint64) {
		if reads := f.prefix.GetReadsAndReset(); reads != processed {
			t.Errorf("transformer reads: %d, want %d", reads, processed)
		}
		want := uint64(1)
		if pageSize != 0 {
			limit := pageSize
			for sum := uint64(1); sum < processed; {
				limit = min(limit*2, maxListLimit)
				sum += limit
				want++
			}
		}
		if got := f.client.KV.(*storagetesting.KVRecorder).GetReadsAndReset(); got != want {
			t.Fatalf("KV Gets: %d, want %d", got, want)
		}
	}
}

// compaction compacts at a resource version the way the apiserver's
// compactor does: etcd3.Compact guarded by the current version of
// compact_rev_key. With ListFromCacheSnapshot it waits until the store has
// seen the compaction.
func (f *fixture) compaction() storagetesting.Compaction {
	return func(ctx context.Context, t *testing.T, resourceVersion string) {
		rv, err := storage.APIObjectVersioner{}.ParseResourceVersion(resourceVersion)
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.client.Client.Get(ctx, compactRevKey)
		if err != nil {
			t.Fatalf("get %s: %v", compactRevKey, err)
		}
		var version int64
		if len(r.Kvs) > 0 {
			version = r.Kvs[0].Version
		}
		if _, _, _, err := etcd3.Compact(ctx, f.client.Client, version, int64(rv)); err != nil {
			t.Fatalf("compact at %d (version %d): %v", rv, version, err)
		}
		if !utilfeature.DefaultFeatureGate.Enabled(features.ListFromCacheSnapshot) {
			return
		}
		for f.store.CompactRevision() != int64(rv) {
			select {
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// increaseRV writes an unrelated key and returns the new revision.
func (f *fixture) increaseRV() storagetesting.IncreaseRVFunc {
	return func(ctx context.Context, t *testing.T) int64 {
		r, err := f.client.Client.Put(ctx, "increaseRV", "ok")
		if err != nil {
			t.Fatalf("put increaseRV: %v", err)
		}
		return r.Header.Revision
	}
}

// keys lists the keys under the store's resource prefix, for size
// estimation.
func (f *fixture) keys(ctx context.Context) ([]string, error) {
	r, err := f.client.Client.Get(ctx, "/pods/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(r.Kvs))
	for _, kv := range r.Kvs {
		out = append(out, string(kv.Key))
	}
	return out, nil
}
