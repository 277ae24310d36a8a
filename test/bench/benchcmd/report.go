package benchcmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
)

func printResult(out io.Writer, r Result) {
	if r.Workload == "mem" {
		fmt.Fprintf(out, "round %d  %-6s %-16s RSS %7.1f MiB  %s\n", r.Round, r.Workload, r.Target, r.RSSMB, r.Note)
		return
	}
	fmt.Fprintf(out, "round %d  %-6s %-16s %9.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  errors %d  %s\n",
		r.Round, r.Workload, r.Target, r.OpsPerS, r.P50ms, r.P99ms, r.Errors, r.Note)
}

// WriteText prints the summaries as a table.
func (rep *Report) WriteText(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\ttarget\tops/s\tp50 ms\tp99 ms\terrors\tops/s ratio\tp99 ratio\tRSS MiB\t\n")
	for _, s := range rep.Summaries {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%s\t\n", s.Workload, s.Target, s.OpsPerS, s.P50ms, s.P99ms,
			s.Errors, s.Ratio, s.P99Ratio, rss(s))
	}
	tw.Flush()
	fmt.Fprintf(out, "medians of %d rounds of %s; ratios are per round against %s, then the median\n", rep.Rounds, rep.Duration, rep.Targets[0])
}

func rss(s Summary) string {
	if s.RSSMB == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", s.RSSMB)
}

// Markdown renders the summaries, the spread of the rounds and the
// machine.
func (rep *Report) Markdown(chart string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s on %s; %d clients over %d connections, %d rounds of %s per workload and target, targets alternating A/B, B/A.\n\n",
		rep.Started.Format("2006-01-02 15:04 UTC"), rep.Machine, rep.Clients, rep.Conns, rep.Rounds, rep.Duration)
	if chart != "" {
		fmt.Fprintf(&b, "![throughput and p99 per workload](%s)\n\n", chart)
	}
	fmt.Fprintf(&b, "| workload | target | ops/s | p50 ms | p99 ms | errors | ops/s vs %s | p99 vs %s | RSS MiB |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n", rep.Targets[0], rep.Targets[0])
	for _, s := range rep.Summaries {
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.2f | %.2f | %d | %.2f× | %.2f× | %s |\n", s.Workload, s.Target, s.OpsPerS, s.P50ms, s.P99ms,
			s.Errors, s.Ratio, s.P99Ratio, rss(s))
	}
	fmt.Fprintf(&b, "\nEach round (ops/s; the spread shows the noise of the shared machine):\n\n| workload | target | rounds |\n|---|---|---|\n")
	for _, s := range rep.Summaries {
		var rs []string
		for _, r := range rep.Results {
			if r.Workload == s.Workload && r.Target == s.Target {
				if r.Workload == "mem" {
					rs = append(rs, fmt.Sprintf("%.0f MiB", r.RSSMB))
				} else {
					rs = append(rs, fmt.Sprintf("%.0f", r.OpsPerS))
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", s.Workload, s.Target, strings.Join(rs, ", "))
	}
	var notes []string
	for _, s := range rep.Summaries {
		for _, n := range s.Notes {
			notes = append(notes, fmt.Sprintf("- %s on %s: %s", s.Workload, s.Target, n))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, "\nNotes:\n\n%s\n", strings.Join(notes, "\n"))
	}
	return b.String()
}

// Doc region markers: UpdateDoc replaces what lies between them.
const (
	docBegin = "<!-- strata-bench:begin -->"
	docEnd   = "<!-- strata-bench:end -->"
)

// UpdateDoc replaces the generated region of the Markdown file at path
// with text (appending the region if the file has none).
func UpdateDoc(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	region := docBegin + "\n" + text + docEnd
	i, j := bytes.Index(old, []byte(docBegin)), bytes.Index(old, []byte(docEnd))
	var out []byte
	if i >= 0 && j > i {
		out = append(append(append([]byte{}, old[:i]...), region...), old[j+len(docEnd):]...)
	} else {
		out = append(append(old, '\n'), region+"\n"...)
	}
	return os.WriteFile(path, out, 0o644)
}

// machine describes this machine: CPUs, model and memory.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %d kB", &kb)
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
