// Command strata serves the etcd v3 API over a SQL datastore.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/strata-db/strata/endpoint"
)

func main() {
	endpoint.TuneGC(context.Background())
	os.Exit(run(os.Args[1:], os.Stderr))
}

// options are the parsed command line.
type options struct {
	cfg         endpoint.Config
	debug       bool
	logFormat   string
	showVersion bool
}

func parse(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("strata", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "strata serves the etcd v3 gRPC API with its data in SQL (SQLite by default).\n\nUsage: strata [flags]\n       strata snapshot save|restore|status ...\n       strata health [--url URL]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.cfg.ListenAddress, "listen-address", endpoint.DefaultListenAddress, "address to serve the etcd API on: host:port or unix://path")
	fs.StringVar(&o.cfg.Endpoint, "endpoint", endpoint.DefaultEndpoint, "datastore DSN: sqlite://path[?params], postgres://user:pass@host:5432/db[?params] or mysql://user:pass@tcp(host:3306)/db[?params]")
	for _, name := range []string{"datastore-cafile", "ca-file"} {
		fs.StringVar(&o.cfg.DatastoreCAFile, name, "", "CA file to verify the PostgreSQL or MySQL server")
	}
	for _, name := range []string{"datastore-certfile", "cert-file"} {
		fs.StringVar(&o.cfg.DatastoreCertFile, name, "", "client certificate file for the PostgreSQL or MySQL server")
	}
	for _, name := range []string{"datastore-keyfile", "key-file"} {
		fs.StringVar(&o.cfg.DatastoreKeyFile, name, "", "client key file for the PostgreSQL or MySQL server")
	}
	fs.IntVar(&o.cfg.DatastoreMaxOpenConns, "datastore-max-open-connections", 0, "most open reader connections to a PostgreSQL or MySQL datastore (0: driver default, 16)")
	fs.IntVar(&o.cfg.DatastoreMaxIdleConns, "datastore-max-idle-connections", 0, "most idle reader connections kept (0: as many as open)")
	fs.DurationVar(&o.cfg.DatastoreConnMaxLifetime, "datastore-connection-max-lifetime", 0, "recycle datastore connections after this long (0: never)")
	fs.StringVar(&o.cfg.EmulatedEtcdVersion, "emulated-etcd-version", endpoint.DefaultEmulatedEtcdVersion, "etcd version reported by Maintenance.Status")
	fs.IntVar(&o.cfg.MaxRequestBytes, "max-request-bytes", endpoint.DefaultMaxRequestBytes, "largest request accepted, in bytes (as etcd)")
	fs.IntVar(&o.cfg.MaxTxnOps, "max-txn-ops", endpoint.DefaultMaxTxnOps, "most operations in one Txn (as etcd)")
	fs.DurationVar(&o.cfg.PollInterval, "poll-interval", endpoint.DefaultPollInterval, "how often watches poll the log for writes made elsewhere")
	fs.DurationVar(&o.cfg.ProgressNotifyInterval, "watch-progress-notify-interval", endpoint.DefaultProgressInterval, "period of progress notifications to watches that ask for them")
	fs.StringVar(&o.cfg.ServerCertFile, "server-cert-file", "", "certificate file to serve clients over TLS")
	fs.StringVar(&o.cfg.ServerKeyFile, "server-key-file", "", "key file of --server-cert-file")
	fs.StringVar(&o.cfg.TrustedCAFile, "trusted-ca-file", "", "CA file for client certificates: with it, every client must present a certificate it signed (mutual TLS)")
	fs.BoolVar(&o.cfg.ClientCertAuth, "client-cert-auth", false, "etcd's name for client certificate verification; needs --trusted-ca-file, which already turns it on (etcd's --cert-file/--key-file are datastore aliases here, as in kine)")
	fs.StringVar(&o.cfg.MetricsAddress, "metrics-bind-address", endpoint.DefaultMetricsAddress, "host:port serving /metrics, /health, /readyz, /livez; 0 disables")
	fs.BoolVar(&o.cfg.EnablePprof, "enable-pprof", false, "serve pprof under /debug/pprof/ on the metrics address")
	fs.DurationVar(&o.cfg.WarningApplyDuration, "warning-apply-duration", endpoint.DefaultWarningApplyDuration, "log requests slower than this (as etcd)")
	fs.StringVar(&o.cfg.AutoCompactionMode, "auto-compaction-mode", "periodic", "interpret --auto-compaction-retention as periodic (a duration, or hours) or revision (revisions kept), as etcd")
	fs.StringVar(&o.cfg.AutoCompactionRetention, "auto-compaction-retention", "0", "history kept by automatic compaction: e.g. 1h or 1 (hours) in periodic mode, 1000 in revision mode; 0 disables")
	fs.Int64Var(&o.cfg.QuotaBackendBytes, "quota-backend-bytes", 0, "refuse writes once the database is this large and raise the NOSPACE alarm, as etcd; 0 enforces no quota (Status reports etcd's default, 2 GiB)")
	fs.StringVar(&o.cfg.AuthToken, "auth-token", endpoint.DefaultAuthToken, "token type, as etcd: simple (recorded in the datastore, so every server sharing it accepts them), or jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256[,ttl=5m]")
	o.cfg.AuthTokenTTL = endpoint.DefaultAuthTokenTTL
	fs.Var((*seconds)(&o.cfg.AuthTokenTTL), "auth-token-ttl", "how long a simple token lives after its last use: seconds, as etcd's --auth-token-ttl, or a duration")
	fs.IntVar(&o.cfg.BcryptCost, "bcrypt-cost", endpoint.DefaultBcryptCost, "bcrypt cost of password hashes (etcd's --bcrypt-cost)")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.BoolVar(&o.debug, "debug", false, "log at debug level")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return nil, fmt.Errorf("--log-format must be text or json, not %q", o.logFormat)
	}
	return o, nil
}

// seconds is a duration flag that also takes a plain number of seconds,
// as etcd's integer flags do.
type seconds time.Duration

func (s *seconds) String() string { return strconv.Itoa(int(time.Duration(*s) / time.Second)) }

func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		*s = seconds(time.Duration(n) * time.Second)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want seconds or a duration: %w", err)
	}
	*s = seconds(d)
	return nil
}

func logger(o *options, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if o.debug {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}

func run(args []string, stderr io.Writer) int {
	if len(args) > 0 {
		if sub := subcommand(args[0]); sub != nil {
			return sub(args[1:], os.Stdout, stderr)
		}
	}
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata:", err)
		return 2
	}
	v, c := buildVersion()
	if o.showVersion {
		fmt.Fprintf(os.Stdout, "strata version %s\ncommit %s\netcd API %s\n%s\n", v, c, o.cfg.EmulatedEtcdVersion, runtime.Version())
		return 0
	}
	log := logger(o, stderr)
	o.cfg.Logger = log
	o.cfg.Version = v
	log.Info("starting strata", "version", v, "commit", c, "go", runtime.Version())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := endpoint.New(ctx, o.cfg)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	<-ctx.Done()
	log.Info("stopping")
	if err := srv.Close(); err != nil {
		log.Error("stop", "err", err)
		return 1
	}
	return 0
}
