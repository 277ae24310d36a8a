package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/strata-db/strata/endpoint"
)

const etcdReadyTimeout = 60 * time.Second

// serve runs one target until SIGTERM: "etcd DIR" (a single-member etcd
// embedded in this process, with etcd's defaults, fsync on) or "strata DSN"
// (Strata as cmd/strata runs it: metrics on, here with pprof too). It
// prints "READY endpoint metrics" when it accepts clients.
func serve(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: strata-bench __serve etcd DIR | strata DSN")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "etcd":
		err = serveEtcd(ctx, args[1], stdout)
	case "strata":
		err = serveStrata(ctx, args[1], stdout, stderr)
	default:
		err = fmt.Errorf("unknown server %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "strata-bench serve:", err)
		return 1
	}
	return 0
}

func serveEtcd(ctx context.Context, dir string, stdout io.Writer) error {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	cu, _ := url.Parse("http://127.0.0.1:0")
	pu, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.Name + "=" + pu.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(etcdReadyTimeout):
		return fmt.Errorf("etcd not ready after %s", etcdReadyTimeout)
	}
	fmt.Fprintf(stdout, "READY %s -\n", e.Clients[0].Addr())
	<-ctx.Done()
	return nil
}

func serveStrata(ctx context.Context, dsn string, stdout, stderr io.Writer) error {
	endpoint.TuneGC(ctx) // as cmd/strata
	srv, err := endpoint.New(ctx, endpoint.Config{
		ListenAddress:  "127.0.0.1:0",
		Endpoint:       dsn,
		MetricsAddress: "127.0.0.1:0",
		EnablePprof:    true,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "READY %s %s\n", srv.Addr(), srv.MetricsAddr())
	<-ctx.Done()
	return srv.Close()
}
