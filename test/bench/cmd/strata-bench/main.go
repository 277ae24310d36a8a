// Command strata-bench measures etcd-API servers side by side: Strata on
// each backend next to a real etcd, in alternating A/B rounds.
//
//	go run ./test/bench/cmd/strata-bench --start etcd,strata-sqlite
//	go run ./test/bench/cmd/strata-bench --endpoints etcd=127.0.0.1:2379,strata=127.0.0.1:3379
//	go run ./test/bench/cmd/strata-bench report --json docs/bench/results.json --doc docs/BENCHMARKS.md
//
// It is its own command, not a subcommand of strata, so the production
// binary carries neither the etcd client nor an embedded etcd server; the
// servers it starts are children of this same binary (a hidden __serve
// argument), Strata's through the same endpoint package as cmd/strata.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/strata-db/strata/test/bench/benchcmd"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == benchcmd.ServeArg {
		return serve(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "report" {
		return report(args[1:], stdout, stderr)
	}
	if err := bench(args, stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "strata-bench:", err)
		return 1
	}
	return 0
}

type outputs struct {
	json, svg, doc string
}

func (o *outputs) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.json, "json", "", "write every round and the summaries as JSON to this file")
	fs.StringVar(&o.svg, "svg", "", "write the chart (throughput and p99 per workload) as SVG to this file")
	fs.StringVar(&o.doc, "doc", "", "replace the generated region of this Markdown file with the tables (and a link to --svg)")
}

func bench(args []string, stdout, stderr io.Writer) error {
	var cfg benchcmd.Config
	var endpoints, start, workloads string
	var so benchcmd.StartOptions
	var out outputs
	fs := flag.NewFlagSet("strata-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&endpoints, "endpoints", "", "running servers to measure: name=host:port,... (the first is the baseline of ratios)")
	fs.StringVar(&start, "start", "", "servers to start, each in its own process: etcd, strata-sqlite, strata-postgres, strata-mysql (comma-separated, first is the baseline)")
	fs.StringVar(&so.PostgresDSN, "postgres-dsn", os.Getenv("STRATA_TEST_POSTGRES"), "admin DSN of PostgreSQL for strata-postgres (a fresh database is made and dropped)")
	fs.StringVar(&so.MySQLDSN, "mysql-dsn", os.Getenv("STRATA_TEST_MYSQL"), "admin DSN of MySQL/MariaDB for strata-mysql")
	fs.StringVar(&so.Dir, "dir", "", "data directories and server logs of started servers (default: a temp dir)")
	fs.StringVar(&workloads, "workloads", benchcmd.DefaultWorkloads, "workloads: put, range, txn, list, watch, k8s, mem")
	fs.IntVar(&cfg.Clients, "clients", benchcmd.DefaultClients, "concurrent clients")
	fs.IntVar(&cfg.Conns, "conns", benchcmd.DefaultConns, "gRPC connections the clients share")
	fs.DurationVar(&cfg.Duration, "duration", benchcmd.DefaultDuration, "length of one round of one workload on one server")
	fs.IntVar(&cfg.Rounds, "rounds", benchcmd.DefaultRounds, "rounds per workload; the order of servers alternates each round")
	fs.IntVar(&cfg.Watchers, "watchers", benchcmd.DefaultWatchers, "watchers on one prefix in the watch workload")
	fs.IntVar(&cfg.WatchRate, "watch-rate", benchcmd.DefaultWatchRate, "puts per second in the watch workload")
	out.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Workloads = strings.Split(workloads, ",")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch {
	case start != "" && endpoints != "":
		return errors.New("--start and --endpoints are exclusive")
	case start != "":
		so.Log = stderr
		st, err := benchcmd.StartTargets(ctx, strings.Split(start, ","), so)
		if err != nil {
			return err
		}
		defer st.Stop()
		cfg.Targets = st.Targets
		cfg.Fresh = func(ctx context.Context) ([]benchcmd.Target, func() error, error) {
			fo := so
			if fo.Dir != "" {
				fo.Dir = filepath.Join(fo.Dir, "fresh")
			}
			fst, err := benchcmd.StartTargets(ctx, strings.Split(start, ","), fo)
			if err != nil {
				return nil, nil, err
			}
			return fst.Targets, fst.Stop, nil
		}
	case endpoints != "":
		ts, err := benchcmd.ParseEndpoints(endpoints)
		if err != nil {
			return err
		}
		cfg.Targets = ts
	default:
		return errors.New("say what to measure: --start etcd,strata-sqlite or --endpoints name=host:port,...")
	}
	rep, err := benchcmd.Run(ctx, cfg, stdout)
	if rep == nil {
		return err
	}
	if rep.Summaries == nil {
		return err
	}
	fmt.Fprintln(stdout)
	rep.WriteText(stdout)
	if werr := out.write(rep); werr != nil {
		return werr
	}
	return err
}

func (o *outputs) write(rep *benchcmd.Report) error {
	if o.json != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.json, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.svg != "" {
		if err := os.WriteFile(o.svg, []byte(rep.SVG()), 0o644); err != nil {
			return err
		}
	}
	if o.doc != "" {
		chart := ""
		if o.svg != "" {
			rel, err := filepath.Rel(filepath.Dir(o.doc), o.svg)
			if err != nil {
				return err
			}
			chart = filepath.ToSlash(rel)
		}
		return benchcmd.UpdateDoc(o.doc, rep.Markdown(chart))
	}
	return nil
}

// report re-renders the chart and document from a saved --json.
func report(args []string, stdout, stderr io.Writer) int {
	var out outputs
	fs := flag.NewFlagSet("strata-bench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b, err := os.ReadFile(out.json)
	if err != nil {
		fmt.Fprintln(stderr, "strata-bench:", err)
		return 1
	}
	var rep benchcmd.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		fmt.Fprintln(stderr, "strata-bench:", err)
		return 1
	}
	rep.WriteText(stdout)
	out.json = ""
	if err := out.write(&rep); err != nil {
		fmt.Fprintln(stderr, "strata-bench:", err)
		return 1
	}
	return 0
}
