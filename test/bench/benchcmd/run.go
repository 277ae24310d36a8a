package benchcmd

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// workload is one kind of load. setup runs once per target before the
// rounds; round runs the load for d and measures it.
type workload interface {
	setup(ctx context.Context, e *env) error
	round(ctx context.Context, e *env, d time.Duration) Result
}

// env is one target with its connections and the workload's state on it.
type env struct {
	t     Target
	cs    []*clientv3.Client
	cfg   *Config
	state any // the workload's own, kept across rounds
}

func (e *env) client(worker int) *clientv3.Client { return e.cs[worker%len(e.cs)] }

// workloads are the known workloads by name.
var workloads = map[string]func() workload{
	"put":   func() workload { return &putLoad{} },
	"range": func() workload { return &rangeLoad{} },
	"txn":   func() workload { return &txnLoad{} },
	"list":  func() workload { return &listLoad{} },
	"watch": func() workload { return &watchLoad{} },
	"k8s":   func() workload { return &k8sLoad{} },
	"mem":   func() workload { return &memLoad{} },
}

// Report is a whole run: every round's results and their summaries.
type Report struct {
	Started   time.Time `json:"started"`
	Machine   string    `json:"machine"`
	Clients   int       `json:"clients"`
	Conns     int       `json:"conns"`
	Duration  string    `json:"duration"`
	Rounds    int       `json:"rounds"`
	Targets   []string  `json:"targets"`
	Workloads []string  `json:"workloads"`
	Results   []Result  `json:"results"`
	Summaries []Summary `json:"summaries"`
}

// Run measures every workload on every target, alternating the order of
// targets each round (A/B, B/A, ...) so drift on a shared machine hits
// both, and prints each round to out as it finishes. A workload of
// freshWorkloads runs on new servers when cfg.Fresh is set.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Started: time.Now().UTC(), Machine: machine(), Clients: cfg.Clients, Conns: cfg.Conns,
		Duration: cfg.Duration.String(), Rounds: cfg.Rounds, Workloads: cfg.Workloads}
	for _, t := range cfg.Targets {
		rep.Targets = append(rep.Targets, t.Name)
	}
	envs, err := dialAll(cfg.Targets, &cfg)
	if err != nil {
		return nil, err
	}
	defer closeEnvs(envs)
	for _, name := range cfg.Workloads {
		if !freshWorkloads[name] || cfg.Fresh == nil {
			if err := runWorkload(ctx, name, envs, rep, out); err != nil {
				return rep, err
			}
			continue
		}
		ts, stop, err := cfg.Fresh(ctx)
		if err != nil {
			return rep, fmt.Errorf("%s: fresh servers: %w", name, err)
		}
		fresh, err := dialAll(ts, &cfg)
		if err == nil {
			err = runWorkload(ctx, name, fresh, rep, out)
			closeEnvs(fresh)
		}
		if serr := stop(); err == nil {
			err = serr
		}
		if err != nil {
			return rep, err
		}
	}
	rep.Summaries = summarize(rep.Results, cfg.Workloads, rep.Targets)
	return rep, nil
}

// freshWorkloads run on fresh servers when Config.Fresh is set.
var freshWorkloads = map[string]bool{"mem": true}

// dialAll connects to every target.
func dialAll(targets []Target, cfg *Config) ([]*env, error) {
	var envs []*env
	for _, t := range targets {
		cs, err := dial(t.Endpoint, cfg.Conns)
		if err != nil {
			closeEnvs(envs)
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		envs = append(envs, &env{t: t, cs: cs, cfg: cfg})
	}
	return envs, nil
}

func closeEnvs(envs []*env) {
	for _, e := range envs {
		closeAll(e.cs)
	}
}

// runWorkload runs the rounds of one workload on envs, alternating their
// order each round, and adds the results to rep.
func runWorkload(ctx context.Context, name string, envs []*env, rep *Report, out io.Writer) error {
	cfg := envs[0].cfg
	failed := map[*env]string{}
	for _, e := range envs {
		w := workloads[name]()
		e.state = w
		if err := w.setup(ctx, e); err != nil {
			// Reported as an error of each round; the run goes on.
			failed[e] = "setup: " + err.Error()
			fmt.Fprintf(out, "%s on %s: setup failed: %v\n", name, e.t.Name, err)
		}
	}
	for r := range cfg.Rounds {
		for i := range envs {
			e := envs[i]
			if r%2 == 1 {
				e = envs[len(envs)-1-i]
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			var res Result
			if msg, bad := failed[e]; bad {
				res = Result{Errors: 1, Note: msg}
			} else {
				res = e.state.(workload).round(ctx, e, cfg.Duration)
			}
			res.Workload, res.Target, res.Round = name, e.t.Name, r+1
			rep.Results = append(rep.Results, res)
			printResult(out, res)
		}
	}
	for _, e := range envs {
		if c, ok := e.state.(io.Closer); ok {
			c.Close()
		}
		e.state = nil
	}
	return nil
}

func dial(endpoint string, n int) ([]*clientv3.Client, error) {
	var cs []*clientv3.Client
	for range n {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: defaultDialTimeout,
			Logger: zap.NewNop(), MaxCallSendMsgSize: 64 << 20, MaxCallRecvMsgSize: 64 << 20})
		if err != nil {
			closeAll(cs)
			return nil, err
		}
		cs = append(cs, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultDialTimeout)
	defer cancel()
	if _, err := cs[0].Get(ctx, "/bench/ping"); err != nil {
		closeAll(cs)
		return nil, fmt.Errorf("not answering: %w", err)
	}
	return cs, nil
}

func closeAll(cs []*clientv3.Client) {
	for _, c := range cs {
		c.Close()
	}
}

// closedLoop runs n workers, each calling op back to back until d has
// passed, and measures every call. Calls are never cut short: the last ones
// finish after d (and count), so a workload's own record of what it wrote
// stays exact.
func closedLoop(ctx context.Context, n int, d time.Duration, op func(ctx context.Context, worker int) error) Result {
	lat := make([][]time.Duration, n)
	var errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(ctx, w); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	r := Result{Ops: int64(len(all)), Errors: errs.Load()}
	if e, ok := firstErr.Load().(string); ok {
		r.Note = e
	}
	r.fill(all, elapsed)
	return r
}
