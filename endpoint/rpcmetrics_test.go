package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"testing"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// testService answers unary calls, a server stream, a client stream and a
// bidirectional stream; a request whose payload reads "fail" fails with
// FailedPrecondition. The other methods are unimplemented.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func failed(p *testpb.Payload) error {
	if p != nil && string(p.Body) == "fail" {
		return status.Error(codes.FailedPrecondition, "asked to fail")
	}
	return nil
}

func (testService) UnaryCall(_ context.Context, r *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if err := failed(r.Payload); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{}, nil
}

func (testService) StreamingOutputCall(r *testpb.StreamingOutputCallRequest, s grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	for range r.ResponseParameters {
		if err := s.Send(&testpb.StreamingOutputCallResponse{}); err != nil {
			return err
		}
	}
	return failed(r.Payload)
}

func (testService) StreamingInputCall(s grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return s.SendAndClose(&testpb.StreamingInputCallResponse{})
		}
		if err != nil {
			return err
		}
		if err := failed(r.Payload); err != nil {
			return err
		}
	}
}

func (testService) FullDuplexCall(s grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := failed(r.Payload); err != nil {
			return err
		}
		if err := s.Send(&testpb.StreamingOutputCallResponse{}); err != nil {
			return err
		}
	}
}

// TestRPCMetricsAsProvider runs calls of every kind, successful, failed,
// unimplemented and cancelled, through a server that counts them both with
// rpcMetrics and with go-grpc-middleware's Prometheus provider (as etcd
// exports them), and compares every series: the counters' values and the
// histograms' counts.
func TestRPCMetricsAsProvider(t *testing.T) {
	ours, theirs := newRPCMetrics(), grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(theirs.UnaryServerInterceptor(), ours.unary),
		grpc.ChainStreamInterceptor(theirs.StreamServerInterceptor(), ours.stream))
	testpb.RegisterTestServiceServer(srv, testService{})
	ours.init(srv)
	theirs.InitializeMetrics(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := testpb.NewTestServiceClient(conn)
	ctx := context.Background()
	fail := &testpb.Payload{Body: []byte("fail")}

	c.UnaryCall(ctx, &testpb.SimpleRequest{})
	c.UnaryCall(ctx, &testpb.SimpleRequest{})
	c.UnaryCall(ctx, &testpb.SimpleRequest{Payload: fail})
	c.EmptyCall(ctx, &testpb.Empty{})
	for _, p := range []*testpb.Payload{nil, fail} {
		out, err := c.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{Payload: p,
			ResponseParameters: make([]*testpb.ResponseParameters, 3)})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := out.Recv(); err != nil {
				break
			}
		}
	}
	for _, p := range []*testpb.Payload{nil, fail} {
		in, err := c.StreamingInputCall(ctx)
		if err != nil {
			t.Fatal(err)
		}
		in.Send(&testpb.StreamingInputCallRequest{})
		in.Send(&testpb.StreamingInputCallRequest{Payload: p})
		in.CloseAndRecv()
	}
	duplex, err := c.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		duplex.Send(&testpb.StreamingOutputCallRequest{})
		duplex.Recv()
	}
	duplex.CloseSend()
	duplex.Recv()
	cctx, cancel := context.WithCancel(ctx)
	cancelled, err := c.FullDuplexCall(cctx)
	if err != nil {
		t.Fatal(err)
	}
	cancelled.Send(&testpb.StreamingOutputCallRequest{})
	cancelled.Recv()
	cancel()
	// The server ends a call after the client sees its end; stop waits for
	// the handlers, so every call is counted before the registries are read.
	srv.GracefulStop()

	got, want := series(t, ours), series(t, theirs)
	if len(want) == 0 {
		t.Fatal("the provider counted nothing")
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, the provider %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: %v, not a series of the provider", k, v)
		}
	}
	for _, k := range []string{
		`grpc_server_handled_total{grpc_code="FailedPrecondition",grpc_method="UnaryCall",grpc_service="grpc.testing.TestService",grpc_type="unary"}`,
		`grpc_server_msg_sent_total{grpc_method="FullDuplexCall",grpc_service="grpc.testing.TestService",grpc_type="bidi_stream"}`,
		`grpc_server_handled_total{grpc_code="Canceled",grpc_method="FullDuplexCall",grpc_service="grpc.testing.TestService",grpc_type="bidi_stream"}`,
	} {
		if want[k] == 0 {
			t.Errorf("the calls made no %s", k)
		}
	}
}

// series is every series of c: a counter's value or a histogram's count,
// by name and sorted labels.
func series(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
