package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress reports a long copy: a bar redrawn in place when w is a
// terminal, otherwise a line every progressEvery. Copies that finish
// before the first report print nothing.
type progress struct {
	w        io.Writer
	terminal bool
	start    time.Time
	last     time.Time
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	p.last = p.start
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int64) {
	now := time.Now()
	every := progressEvery
	if p.terminal {
		every = progressRedraw
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if p.terminal {
		const width = 30
		fill := int(pct / 100 * width)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = ' '
			if i < fill {
				bar[i] = '='
			}
		}
		fmt.Fprintf(p.w, "\r[%s] %5.1f%% %s / %s", bar, pct, humanBytes(done), humanBytes(total))
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "copied %s of %s (%.0f%%) in %s\n", humanBytes(done), humanBytes(total), pct, now.Sub(p.start).Round(time.Second))
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r     io.Reader
	p     *progress
	n     int64
	total int64
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	r.p.update(r.n, r.total)
	return n, err
}
