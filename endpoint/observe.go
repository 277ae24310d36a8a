package endpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-db/strata/pkg/server"
)

// readHeaderTimeout bounds a slow client of the metrics listener.
const readHeaderTimeout = 10 * time.Second

// newRegistry is the registry every component registers on: the process
// and Go runtime collectors, as etcd exports them, plus the components'.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	return reg
}

// healthBody is etcd's /health body.
type healthBody struct {
	Health string `json:"health"`
	Reason string `json:"reason"`
}

// observeMux serves /metrics, etcd's /health, /readyz and /livez, and
// pprof when enabled.
func observeMux(reg *prometheus.Registry, srv *server.Server, pprofOn bool) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		exclude := map[string]bool{}
		for _, a := range r.URL.Query()["exclude"] {
			exclude[a] = true
		}
		ok, reason := srv.Health(r.Context(), exclude)
		h := healthBody{Health: fmt.Sprint(ok), Reason: reason}
		d, _ := json.Marshal(h)
		if !ok {
			http.Error(w, string(d), http.StatusServiceUnavailable)
			return
		}
		w.Write(d)
	})
	checks := srv.ReadyChecks()
	mux.HandleFunc("/readyz", checksHandler(checks))
	mux.HandleFunc("/livez", checksHandler(map[string]func(context.Context) error{"serializable_read": checks["serializable_read"]}))
	if pprofOn {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// checksHandler answers as etcd's /readyz and /livez: "ok" when every check
// not excluded passes, 503 with the reasons otherwise; ?verbose lists them.
func checksHandler(checks map[string]func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		exclude := map[string]bool{}
		for _, e := range r.URL.Query()["exclude"] {
			exclude[e] = true
		}
		names := make([]string, 0, len(checks))
		for n := range checks {
			names = append(names, n)
		}
		sort.Strings(names)
		var out strings.Builder
		failed := false
		for _, n := range names {
			if exclude[n] {
				fmt.Fprintf(&out, "[+]%s excluded: ok\n", n)
				continue
			}
			if err := checks[n](r.Context()); err != nil {
				failed = true
				fmt.Fprintf(&out, "[-]%s failed: %v\n", n, err)
				continue
			}
			fmt.Fprintf(&out, "[+]%s ok\n", n)
		}
		if failed {
			http.Error(w, out.String(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if _, ok := r.URL.Query()["verbose"]; ok {
			fmt.Fprint(w, out.String())
		}
		fmt.Fprint(w, "ok\n")
	}
}

// serveObserve starts the metrics listener; Close stops it.
func (s *Server) serveObserve(mux *http.ServeMux) error {
	l, err := net.Listen("tcp", s.cfg.MetricsAddress)
	if err != nil {
		return fmt.Errorf("endpoint: metrics listener: %w", err)
	}
	s.httpLis = l
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	}()
	return nil
}

// MetricsAddr is the address of the metrics listener, or "" if none.
func (s *Server) MetricsAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}
