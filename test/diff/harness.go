package diff

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// CallTimeout bounds every request the harness sends.
const CallTimeout = 5 * time.Second

// Side is one server under test, reached through raw etcdserverpb clients
// so that every response field and the exact gRPC status reach the test.
type Side struct {
	// Name is "etcd" or "strata-<backend>".
	Name string
	// Endpoint is host:port.
	Endpoint    string
	Conn        *grpc.ClientConn
	KV          pb.KVClient
	Watch       pb.WatchClient
	Lease       pb.LeaseClient
	Cluster     pb.ClusterClient
	Maintenance pb.MaintenanceClient
	Auth        pb.AuthClient
}

// Dial connects to endpoint without client-side message size limits, so
// that the server's own limits are what a test observes. The connection is
// closed at the end of the test.
func Dial(t testing.TB, name, endpoint string) *Side {
	t.Helper()
	conn, err := grpc.NewClient(endpoint,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallSendMsgSize(math.MaxInt32),
			grpc.MaxCallRecvMsgSize(math.MaxInt32),
		))
	if err != nil {
		t.Fatalf("%s: dial %s: %v", name, endpoint, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Side{
		Name:        name,
		Endpoint:    endpoint,
		Conn:        conn,
		KV:          pb.NewKVClient(conn),
		Watch:       pb.NewWatchClient(conn),
		Lease:       pb.NewLeaseClient(conn),
		Cluster:     pb.NewClusterClient(conn),
		Maintenance: pb.NewMaintenanceClient(conn),
		Auth:        pb.NewAuthClient(conn),
	}
}

// Pair is an etcd oracle and a Strata server that a test drives in
// lockstep.
type Pair struct {
	Etcd   *Side
	Strata *Side
}

// NewPair dials both servers.
func NewPair(t testing.TB, etcdName, etcdEndpoint, strataName, strataEndpoint string) *Pair {
	t.Helper()
	return &Pair{
		Etcd:   Dial(t, etcdName, etcdEndpoint),
		Strata: Dial(t, strataName, strataEndpoint),
	}
}

// Call is one request, applied to one side.
type Call func(ctx context.Context, s *Side) (proto.Message, error)

// Run sends call to both servers concurrently and returns both results,
// without judging them.
func (p *Pair) Run(call Call) (etcd, strata Result) {
	var wg sync.WaitGroup
	wg.Add(2)
	run := func(s *Side, r *Result) {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
		defer cancel()
		r.Resp, r.Err = call(ctx, s)
	}
	go run(p.Etcd, &etcd)
	go run(p.Strata, &strata)
	wg.Wait()
	return etcd, strata
}

// Check runs call on both servers and reports a test error named what when
// the normalised results differ. It returns etcd's result.
func (p *Pair) Check(t testing.TB, what string, call Call) Result {
	t.Helper()
	e, s := p.Run(call)
	if oracleBroken(e.Err) {
		t.Errorf("%s: oracle %s failed, nothing compared: %v", what, p.Etcd.Name, e.Err)
		return e
	}
	if d := Mismatch(e, s); d != "" {
		t.Errorf("%s: %s vs %s: %s", what, p.Etcd.Name, p.Strata.Name, d)
	}
	if os.Getenv("STRATA_DIFF_LOG") != "" {
		t.Logf("%s: etcd answered %s", what, describeResult(e))
	}
	return e
}

// oracleBroken reports an etcd error that means the harness, not the
// request, is at fault: a test must never pass by comparing two timeouts.
func oracleBroken(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// Range checks a Range on both servers and returns etcd's answer.
func (p *Pair) Range(t testing.TB, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	t.Helper()
	res := p.Check(t, "Range "+describe(r), func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.Range(ctx, r)
	})
	return typed[*pb.RangeResponse](res)
}

// Put checks a Put on both servers and returns etcd's answer.
func (p *Pair) Put(t testing.TB, r *pb.PutRequest) (*pb.PutResponse, error) {
	t.Helper()
	res := p.Check(t, "Put "+describe(r), func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.Put(ctx, r)
	})
	return typed[*pb.PutResponse](res)
}

// DeleteRange checks a DeleteRange on both servers and returns etcd's answer.
func (p *Pair) DeleteRange(t testing.TB, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	t.Helper()
	res := p.Check(t, "DeleteRange "+describe(r), func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.DeleteRange(ctx, r)
	})
	return typed[*pb.DeleteRangeResponse](res)
}

// Txn checks a Txn on both servers and returns etcd's answer.
func (p *Pair) Txn(t testing.TB, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	t.Helper()
	res := p.Check(t, "Txn "+describe(r), func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.Txn(ctx, r)
	})
	return typed[*pb.TxnResponse](res)
}

// Compact checks a Compact on both servers and returns etcd's answer.
func (p *Pair) Compact(t testing.TB, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	t.Helper()
	res := p.Check(t, "Compact "+describe(r), func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.Compact(ctx, r)
	})
	return typed[*pb.CompactionResponse](res)
}

// MustPut puts key=value on both servers (as test setup) and returns the
// revision etcd assigned; it fails the test at once if either side errs.
func (p *Pair) MustPut(t testing.TB, key, value string) int64 {
	t.Helper()
	resp, err := p.Put(t, &pb.PutRequest{Key: []byte(key), Value: []byte(value)})
	if err != nil {
		t.Fatalf("setup put %q: %v", key, err)
	}
	return resp.GetHeader().GetRevision()
}

func typed[T proto.Message](r Result) (T, error) {
	v, _ := r.Resp.(T)
	return v, r.Err
}
