package benchcmd

import (
	"slices"
	"time"
)

// Result is one workload's measurement on one target in one round.
type Result struct {
	Workload string  `json:"workload"`
	Target   string  `json:"target"`
	Round    int     `json:"round"`
	Ops      int64   `json:"ops"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	OpsPerS  float64 `json:"ops_per_s"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	// RSSMB is the server's resident memory (mem workload only).
	RSSMB float64 `json:"rss_mb,omitempty"`
	// Note reports a correctness failure or a first error.
	Note string `json:"note,omitempty"`
}

// fill computes the rates and percentiles of r from lat.
func (r *Result) fill(lat []time.Duration, elapsed time.Duration) {
	r.Seconds = elapsed.Seconds()
	if r.Seconds > 0 {
		r.OpsPerS = float64(r.Ops) / r.Seconds
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	r.P50ms = ms(lat[len(lat)/2])
	r.P99ms = ms(lat[len(lat)*99/100])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Summary is the medians of one workload on one target over the rounds,
// with the median of the per-round ratios to the baseline target.
type Summary struct {
	Workload string  `json:"workload"`
	Target   string  `json:"target"`
	OpsPerS  float64 `json:"ops_per_s"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Errors   int64   `json:"errors"`
	RSSMB    float64 `json:"rss_mb,omitempty"`
	// Ratio is ops/s over the baseline's in the same round (median);
	// P99Ratio is p99 over the baseline's (below 1 is better).
	Ratio    float64  `json:"ratio"`
	P99Ratio float64  `json:"p99_ratio"`
	Notes    []string `json:"notes,omitempty"`
}

// summarize folds results into one Summary per (workload, target), in the
// order of workloads and targets.
func summarize(results []Result, workloads []string, targets []string) []Summary {
	type key struct{ w, t string }
	type roundKey struct {
		w     string
		round int
	}
	by := map[key][]Result{}
	base := map[roundKey]Result{} // the baseline's result of each round
	for _, r := range results {
		by[key{r.Workload, r.Target}] = append(by[key{r.Workload, r.Target}], r)
		if r.Target == targets[0] {
			base[roundKey{r.Workload, r.Round}] = r
		}
	}
	var out []Summary
	for _, w := range workloads {
		for _, t := range targets {
			rs := by[key{w, t}]
			if len(rs) == 0 {
				continue
			}
			s := Summary{Workload: w, Target: t}
			var ops, p50, p99, rss, ratio, p99r []float64
			for _, r := range rs {
				ops, p50, p99 = append(ops, r.OpsPerS), append(p50, r.P50ms), append(p99, r.P99ms)
				rss = append(rss, r.RSSMB)
				s.Errors += r.Errors
				if r.Note != "" {
					s.Notes = append(s.Notes, r.Note)
				}
				if b, ok := base[roundKey{w, r.Round}]; ok {
					if b.OpsPerS > 0 {
						ratio = append(ratio, r.OpsPerS/b.OpsPerS)
					}
					if b.P99ms > 0 {
						p99r = append(p99r, r.P99ms/b.P99ms)
					}
				}
			}
			s.OpsPerS, s.P50ms, s.P99ms, s.RSSMB = median(ops), median(p50), median(p99), median(rss)
			s.Ratio, s.P99Ratio = median(ratio), median(p99r)
			out = append(out, s)
		}
	}
	return out
}
