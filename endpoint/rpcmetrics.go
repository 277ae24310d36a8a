package endpoint

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// rpcMetrics exports the gRPC server metrics etcd exports, with the names,
// labels and counting of go-grpc-middleware's Prometheus provider, which
// etcd uses: grpc_server_started_total, grpc_server_handled_total,
// grpc_server_msg_received_total, grpc_server_msg_sent_total and the
// grpc_server_handling_seconds histogram. Every series of a method is
// resolved once, when the server's services are known (init), where the
// provider hashed the label values on every call to find them: 3% of the
// server's CPU under Puts. TestRPCMetricsAsProvider compares the two.
type rpcMetrics struct {
	started, handled, received, sent *prometheus.CounterVec
	handling                         *prometheus.HistogramVec
	// methods holds each method's series by full method name
	// ("/etcdserverpb.KV/Put"); init fills it before the server serves,
	// and it is only read afterwards.
	methods map[string]*rpcMethod
}

// rpcMethod is one method's series.
type rpcMethod struct {
	started, received, sent prometheus.Counter
	handling                prometheus.Observer
	// handled is indexed by status code; vec finds codes beyond it.
	handled [codes.Unauthenticated + 1]prometheus.Counter
	vec     *prometheus.CounterVec
	labels  [3]string // type, service, method
}

// The grpc_type label values.
const (
	rpcUnary        = "unary"
	rpcClientStream = "client_stream"
	rpcServerStream = "server_stream"
	rpcBidiStream   = "bidi_stream"
)

func newRPCMetrics() *rpcMetrics {
	labels := []string{"grpc_type", "grpc_service", "grpc_method"}
	withCode := append(labels[:3:3], "grpc_code")
	return &rpcMetrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server."}, labels),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure."}, withCode),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_msg_received_total",
			Help: "Total number of RPC stream messages received on the server."}, labels),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_server_msg_sent_total",
			Help: "Total number of gRPC stream messages sent by the server."}, labels),
		handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
			Buckets: prometheus.DefBuckets}, labels),
		methods: map[string]*rpcMethod{},
	}
}

// Describe and Collect make rpcMetrics one prometheus.Collector.
func (m *rpcMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

func (m *rpcMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *rpcMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.started, m.handled, m.received, m.sent, m.handling}
}

// init resolves the series of every method the server serves, which also
// exports them at zero, as the provider's InitializeMetrics does.
func (m *rpcMetrics) init(s *grpc.Server) {
	for service, info := range s.GetServiceInfo() {
		for _, mi := range info.Methods {
			typ := rpcTypeOf(mi.IsClientStream, mi.IsServerStream)
			m.methods["/"+service+"/"+mi.Name] = m.newMethod(typ, service, mi.Name)
		}
	}
}

func (m *rpcMetrics) newMethod(typ, service, method string) *rpcMethod {
	r := &rpcMethod{labels: [3]string{typ, service, method}, vec: m.handled,
		started:  m.started.WithLabelValues(typ, service, method),
		received: m.received.WithLabelValues(typ, service, method),
		sent:     m.sent.WithLabelValues(typ, service, method),
		handling: m.handling.WithLabelValues(typ, service, method)}
	for c := range r.handled {
		r.handled[c] = m.handled.WithLabelValues(typ, service, method, codes.Code(c).String())
	}
	return r
}

// method returns the series of fullMethod; one the server did not list
// at init (none should exist) is resolved for this call alone.
func (m *rpcMetrics) method(fullMethod, typ string) *rpcMethod {
	if r, ok := m.methods[fullMethod]; ok {
		return r
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return m.newMethod(typ, service, method)
}

func rpcTypeOf(clientStream, serverStream bool) string {
	switch {
	case clientStream && serverStream:
		return rpcBidiStream
	case clientStream:
		return rpcClientStream
	case serverStream:
		return rpcServerStream
	}
	return rpcUnary
}

// done counts a finished call with its status code, as the provider: a
// context error without a status counts as gRPC's code for it.
func (r *rpcMethod) done(err error, took time.Duration) {
	s, ok := status.FromError(err)
	if !ok {
		s = status.FromContextError(err)
	}
	if c := s.Code(); int(c) < len(r.handled) {
		r.handled[c].Inc()
	} else {
		r.vec.WithLabelValues(r.labels[0], r.labels[1], r.labels[2], c.String()).Inc()
	}
	r.handling.Observe(took.Seconds())
}

// unary counts as the provider's unary interceptor: the request received,
// and the response sent whether or not the call failed.
func (m *rpcMetrics) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	r := m.method(info.FullMethod, rpcUnary)
	r.started.Inc()
	r.received.Inc()
	resp, err := handler(ctx, req)
	r.sent.Inc()
	r.done(err, time.Since(start))
	return resp, err
}

// stream counts as the provider's stream interceptor: every RecvMsg and
// SendMsg, failed ones (the end of the client's stream) included.
func (m *rpcMetrics) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	r := m.method(info.FullMethod, rpcTypeOf(info.IsClientStream, info.IsServerStream))
	r.started.Inc()
	err := handler(srv, &countedStream{ServerStream: ss, r: r})
	r.done(err, time.Since(start))
	return err
}

type countedStream struct {
	grpc.ServerStream
	r *rpcMethod
}

func (s *countedStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	s.r.sent.Inc()
	return err
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	s.r.received.Inc()
	return err
}
