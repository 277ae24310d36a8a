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
	"syscall"

	"github.com/strata-db/strata/endpoint"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// options are the parsed command line.
type options struct {
	cfg       endpoint.Config
	debug     bool
	logFormat string
}

func parse(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("strata", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "strata serves the etcd v3 gRPC API with its data in SQL (SQLite by default).\n\nUsage: strata [flags]\n\nFlags:\n")
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
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata:", err)
		return 2
	}
	log := logger(o, stderr)
	o.cfg.Logger = log
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
