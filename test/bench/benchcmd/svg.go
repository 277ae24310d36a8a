package benchcmd

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// chart geometry
const (
	panelW   = 200
	panelH   = 170
	barArea  = 110
	marginL  = 20
	marginT  = 50
	legendH  = 30
	fontSize = 11
)

var palette = []string{"#7f8c8d", "#2e86de", "#27ae60", "#e67e22", "#8e44ad", "#c0392b"}

// SVG renders two rows of panels, one panel per workload: throughput
// (ops/s, higher is better) and p99 latency (ms, lower is better), a bar
// per target with its value. Each panel has its own scale.
func (rep *Report) SVG() string {
	var ws []string
	for _, w := range rep.Workloads {
		if w != "mem" {
			ws = append(ws, w)
		}
	}
	width := marginL*2 + panelW*len(ws)
	height := marginT + 2*panelH + legendH
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="%d">`+"\n", width, height, fontSize)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", marginL,
		html.EscapeString(fmt.Sprintf("strata-bench: %d clients, medians of %d rounds of %s", rep.Clients, rep.Rounds, rep.Duration)))
	for i, t := range rep.Targets {
		x := marginL + i*150
		fmt.Fprintf(&b, `<rect x="%d" y="30" width="10" height="10" fill="%s"/><text x="%d" y="39">%s</text>`+"\n", x, color(i), x+14, html.EscapeString(t))
	}
	for i, w := range ws {
		x := marginL + i*panelW
		rep.panel(&b, x, marginT, w, "ops/s", func(s Summary) float64 { return s.OpsPerS })
		rep.panel(&b, x, marginT+panelH, w, "p99 ms", func(s Summary) float64 { return s.P99ms })
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func color(i int) string { return palette[i%len(palette)] }

func (rep *Report) panel(b *strings.Builder, x, y int, workload, unit string, val func(Summary) float64) {
	var vals []float64
	for _, t := range rep.Targets {
		v := 0.0
		for _, s := range rep.Summaries {
			if s.Workload == workload && s.Target == t {
				v = val(s)
			}
		}
		vals = append(vals, v)
	}
	top := 0.0
	for _, v := range vals {
		top = math.Max(top, v)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold">%s %s</text>`+"\n", x+10, y+14, workload, unit)
	base := y + 30 + barArea
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", x+10, base, x+panelW-20, base)
	bw := (panelW - 40) / max(1, len(vals))
	for i, v := range vals {
		h := 0
		if top > 0 {
			h = int(float64(barArea) * v / top)
		}
		bx := x + 15 + i*bw
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", bx, base-h, bw-6, h, color(i))
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="9">%s</text>`+"\n", bx+(bw-6)/2, base-h-3, short(v))
	}
}

func short(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
