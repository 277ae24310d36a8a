package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// fakeMeter answers with usage, or err; block, if set, holds each measure
// until it is closed.
type fakeMeter struct {
	mu    sync.Mutex
	usage kv.Usage
	err   error
	block chan struct{}
	calls atomic.Int32
}

func (f *fakeMeter) Usage(ctx context.Context) (kv.Usage, error) {
	f.calls.Add(1)
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage, f.err
}

func (f *fakeMeter) set(u kv.Usage) {
	f.mu.Lock()
	f.usage = u
	f.mu.Unlock()
}

func TestQuotaNotEnforced(t *testing.T) {
	m := &fakeMeter{usage: kv.Usage{Bytes: 1 << 40}}
	for _, q := range []*quota{{limit: 0, meter: m}, {limit: 100}} {
		if !q.available(context.Background(), 1000) {
			t.Errorf("limit %d: write refused", q.limit)
		}
	}
	if m.calls.Load() != 0 {
		t.Errorf("measured %d times without a quota", m.calls.Load())
	}
}

func TestQuotaChargesBetweenMeasures(t *testing.T) {
	ctx := context.Background()
	m := &fakeMeter{usage: kv.Usage{Rows: 1, Bytes: 100}} // 356 bytes
	q := &quota{limit: 356 + 3*300 + 1, meter: m}
	for i := range 3 {
		if !q.available(ctx, 300) {
			t.Fatalf("write %d refused", i)
		}
	}
	if q.available(ctx, 300) {
		t.Fatal("write past the limit admitted")
	}
	if n := m.calls.Load(); n != 1 {
		t.Errorf("measured %d times, want once (the refusal follows a fresh measure)", n)
	}
	if q.available(ctx, 0) != true {
		t.Error("a write that costs nothing was refused")
	}
}

func TestQuotaMeasuresAgainAfterForget(t *testing.T) {
	ctx := context.Background()
	m := &fakeMeter{usage: kv.Usage{Rows: 10, Bytes: 10_000}}
	q := &quota{limit: 5000, meter: m}
	if q.available(ctx, 300) {
		t.Fatal("write over the limit admitted")
	}
	m.set(kv.Usage{Rows: 1, Bytes: 100}) // compacted
	if q.available(ctx, 300) {
		t.Fatal("admitted before forget, within quotaRefresh of the last measure")
	}
	q.forget()
	if !q.available(ctx, 300) {
		t.Fatal("refused after the compaction was forgotten")
	}
	if n := m.calls.Load(); n != 2 {
		t.Errorf("measured %d times, want 2", n)
	}
}

func TestQuotaFailedMeasureAdmits(t *testing.T) {
	m := &fakeMeter{err: errors.New("no database")}
	q := &quota{limit: 10, meter: m}
	if !q.available(context.Background(), 300) {
		t.Error("refused although the usage could not be measured")
	}
}

// TestQuotaOneMeasureAtATime: while one write measures, writes the last
// measure admits go on, and those it refuses wait for the new measure.
func TestQuotaOneMeasureAtATime(t *testing.T) {
	ctx := context.Background()
	m := &fakeMeter{usage: kv.Usage{Bytes: 1000}}
	q := &quota{limit: 2000, meter: m}
	if !q.available(ctx, 100) {
		t.Fatal("first write refused")
	}
	q.at = time.Now().Add(-2 * quotaResync) // stale: the next write measures
	m.block = make(chan struct{})
	measuring := make(chan bool)
	go func() { measuring <- q.available(ctx, 100) }()
	for m.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if !q.available(ctx, 100) {
		t.Fatal("a write that fits the last measure was refused while measuring")
	}
	m.set(kv.Usage{Bytes: 100})
	waiting := make(chan bool)
	go func() { waiting <- q.available(ctx, 1500) }() // does not fit the last measure
	select {
	case <-waiting:
		t.Fatal("a write the last measure refuses did not wait for the new one")
	case <-time.After(50 * time.Millisecond):
	}
	close(m.block)
	if !<-measuring || !<-waiting {
		t.Error("refused after the new measure")
	}
	if n := m.calls.Load(); n != 2 {
		t.Errorf("measured %d times, want 2", n)
	}
}
