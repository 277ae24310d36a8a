package kube

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	backendEnv    = "STRATA_CONFORMANCE_BACKEND"
	binaryEnv     = "STRATA_KUBE_APISERVER" // path of the kube-apiserver binary
	readyTimeout  = 3 * time.Minute
	opTimeout     = 30 * time.Second
	compactPeriod = 10 * time.Second
	token         = "strata-conformance-token"
)

// cfg is the apiserver every test talks to, started once by TestMain;
// etcdAddr is the etcd API (Strata, or the reference etcd) it stores in.
var (
	cfg      *rest.Config
	etcdAddr string
)

func TestMain(m *testing.M) {
	stop, err := startAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kube:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startAll starts Strata on the backend under test and a kube-apiserver on
// it, and waits until the apiserver is ready.
func startAll() (stop func(), err error) {
	bin := os.Getenv(binaryEnv)
	if bin == "" {
		return nil, fmt.Errorf("%s names no kube-apiserver binary (test/kube/run builds one)", binaryEnv)
	}
	dir, err := os.MkdirTemp("", "strata-kube-")
	if err != nil {
		return nil, err
	}
	backend := os.Getenv(backendEnv)
	addr, closeStore, err := StartStore(dir, backend, AdminDSN(backend))
	if err != nil {
		return nil, err
	}
	etcdAddr = addr
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := writeCredentials(dir); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--etcd-servers=http://"+addr,
		"--etcd-compaction-interval="+compactPeriod.String(),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(dir, "sa.key"),
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		closeStore()
		log.Close()
		if os.Getenv("STRATA_KUBE_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintln(os.Stderr, "kube: kept", dir)
		}
	}
	cfg = &rest.Config{Host: fmt.Sprintf("https://127.0.0.1:%d", port), BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 100, Burst: 200}
	if err := waitReady(cfg); err != nil {
		stop()
		return nil, fmt.Errorf("%w (log: %s)", err, tail(filepath.Join(dir, "kube-apiserver.log")))
	}
	return stop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeCredentials writes the service-account key pair and the static
// token file (one cluster admin).
func writeCredentials(dir string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(token + `,admin,admin,"system:masters"` + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func waitReady(cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Raw()
		cancel()
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return nil
		}
		last = err
		time.Sleep(time.Second)
	}
	return fmt.Errorf("kube-apiserver not ready after %v: %v", readyTimeout, last)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func clients(t *testing.T) (*kubernetes.Clientset, context.Context) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return cs, ctx
}

func namespace(t *testing.T, cs *kubernetes.Clientset, ctx context.Context) string {
	t.Helper()
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "strata-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// TestReadyz: every readiness check passes, etcd's included.
func TestReadyz(t *testing.T) {
	cs, ctx := clients(t)
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").Param("verbose", "true").Do(ctx).Raw()
	if err != nil {
		t.Fatalf("readyz: %v\n%s", err, body)
	}
	if !strings.Contains(string(body), "[+]etcd ok") {
		t.Fatalf("readyz has no passing etcd check:\n%s", body)
	}
}

// TestBootstrapObjects: what the apiserver writes at start is there.
func TestBootstrapObjects(t *testing.T) {
	cs, ctx := clients(t)
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", ns, err)
		}
	}
	roles, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil || len(roles.Items) < 50 {
		t.Errorf("cluster roles: %v, %d items; want the bootstrap roles", err, len(roles.Items))
	}
	if _, err := cs.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{}); err != nil {
		t.Errorf("service default/kubernetes: %v", err)
	}
}

// TestConfigMapLifecycle: create, get, update, a stale update conflicts,
// delete, then not found.
func TestConfigMapLifecycle(t *testing.T) {
	cs, ctx := clients(t)
	ns := namespace(t, cs, ctx)
	cms := cs.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Data: map[string]string{"k": "1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	dup := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	if _, err := cms.Create(ctx, dup, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	stale := cm.DeepCopy()
	cm.Data["k"] = "2"
	upd, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if upd.ResourceVersion == stale.ResourceVersion {
		t.Fatalf("update kept resourceVersion %s", upd.ResourceVersion)
	}
	stale.Data["k"] = "3"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "2" {
		t.Fatalf("get: %v, %v; want k=2", err, got.Data)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := cms.Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v, want NotFound", err)
	}
}

// TestListPagination: 120 objects listed 25 at a time, from etcd
// (resourceVersion ""), every object exactly once.
func TestListPagination(t *testing.T) {
	cs, ctx := clients(t)
	ns := namespace(t, cs, ctx)
	const n = 120
	for i := range n {
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%03d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	opts := metav1.ListOptions{Limit: 25}
	for pages := 0; ; pages++ {
		l, err := cs.CoreV1().Secrets(ns).List(ctx, opts)
		if err != nil {
			t.Fatalf("list page %d: %v", pages, err)
		}
		for _, s := range l.Items {
			if seen[s.Name] {
				t.Fatalf("%s listed twice", s.Name)
			}
			seen[s.Name] = true
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	if len(seen) != n {
		t.Fatalf("listed %d secrets, want %d", len(seen), n)
	}
}

// TestWatch: a watch from a list's resourceVersion sees added, modified and
// deleted, in order.
func TestWatch(t *testing.T) {
	cs, ctx := clients(t)
	ns := namespace(t, cs, ctx)
	cms := cs.CoreV1().ConfigMaps(ns)
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "w"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"x": "y"}
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "w", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []watch.EventType{watch.Added, watch.Modified, watch.Deleted} {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed, want %s", want)
			}
			if e.Type != want {
				t.Fatalf("event %s, want %s: %+v", e.Type, want, e.Object)
			}
		case <-time.After(opTimeout):
			t.Fatalf("no %s event after %v", want, opTimeout)
		}
	}
}

// TestCustomResource: a CRD is established and its objects stored.
func TestCustomResource(t *testing.T) {
	_, ctx := clients(t)
	ext, err := apiextclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.strata.example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "strata.example.com", Scope: apiextv1.NamespaceScoped,
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptrTrue()}}}},
		},
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "strata.example.com", Version: "v1", Resource: "widgets"}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "strata.example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1"}, "spec": map[string]any{"size": int64(3)},
	}}
	deadline := time.Now().Add(opTimeout)
	for {
		_, err = dyn.Resource(gvr).Namespace("default").Create(ctx, obj, metav1.CreateOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond) // until the CRD is established
	}
	if err != nil {
		t.Fatalf("create widget: %v", err)
	}
	got, err := dyn.Resource(gvr).Namespace("default").Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get widget: %v", err)
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 3 {
		t.Fatalf("widget spec.size = %d, want 3", size)
	}
}

// TestCompaction: the apiserver's compactor (every 10 s) records its
// compactions in compact_rev_key and compacts the store: the store then
// refuses to read below that revision, and the apiserver still lists.
func TestCompaction(t *testing.T) {
	cs, ctx := clients(t)
	ns := namespace(t, cs, ctx)
	cms := cs.CoreV1().ConfigMaps(ns)
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		cm.Data = map[string]string{"i": fmt.Sprint(i)}
		if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdAddr}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	// The compactor compacts at the revision it saw one period earlier.
	var compacted int64
	for deadline := time.Now().Add(3*compactPeriod + 5*time.Second); compacted <= 1; time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("compact_rev_key shows no compaction after %v", 3*compactPeriod)
		}
		r, err := etcd.Get(ctx, "compact_rev_key")
		if err != nil {
			t.Fatalf("get compact_rev_key: %v", err)
		}
		if len(r.Kvs) > 0 {
			compacted, _ = strconv.ParseInt(string(r.Kvs[0].Value), 10, 64)
		}
	}
	if _, err := etcd.Get(ctx, "/registry/configmaps/", clientv3.WithPrefix(), clientv3.WithRev(compacted-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("read at revision %d below the compaction at %d: %v, want %v", compacted-1, compacted, err, rpctypes.ErrCompacted)
	}
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("list after compaction: %v, %d items; want 1", err, len(l.Items))
	}
}

func ptrTrue() *bool { b := true; return &b }
