package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/strata-db/strata/pkg/kv"
)

// defaultEventsLimit is the rows an Events call reads when not told.
const defaultEventsLimit = 1000

// Events reads the log after a revision for the watch poller.
func (t *txn) Events(ctx context.Context, after, through int64, limit int, withPrev bool) ([]kv.Event, int64, error) {
	if err := t.flush(ctx); err != nil {
		return nil, 0, err
	}
	if limit <= 0 {
		limit = defaultEventsLimit
	}
	evs, err := t.events(ctx, after, through, limit+1, withPrev)
	if err != nil || len(evs) <= limit {
		return evs, through, err
	}
	if last := evs[limit].KV.ModRevision; evs[0].KV.ModRevision == last {
		// One revision alone is larger than the limit: all of it.
		evs, err = t.events(ctx, after, last, int(^uint(0)>>1), withPrev)
		return evs, last, err
	}
	evs, through = cutEvents(evs, through, limit)
	return evs, through, nil
}

func (t *txn) events(ctx context.Context, after, through int64, limit int, withPrev bool) ([]kv.Event, error) {
	q := t.s.q.events
	if withPrev {
		q = t.s.q.eventsWithPrev
	}
	rows, err := t.query(ctx, q, after, through, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: events: %w", err)
	}
	defer rows.Close()
	var out []kv.Event
	for rows.Next() {
		var e kv.Event
		var deleted int
		v := &kv.KeyValue{}
		dest := []any{&v.ModRevision, &e.Sub, &v.Key, &v.Value, &v.CreateRevision, &v.Version, &v.Lease, &deleted, &e.PrevRevision}
		var pv []byte
		var pc, pver, pl, prev sql.NullInt64
		if withPrev {
			dest = append(dest, &pv, &pc, &pver, &pl, &prev)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlstore: scan event: %w", err)
		}
		e.Deleted = deleted != 0
		e.KV = normalize(v)
		if e.Deleted {
			e.KV = &kv.KeyValue{Key: v.Key, ModRevision: v.ModRevision}
		}
		if withPrev && pc.Valid {
			e.Prev = normalize(&kv.KeyValue{Key: v.Key, Value: pv, CreateRevision: pc.Int64,
				ModRevision: prev.Int64, Version: pver.Int64, Lease: pl.Int64})
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
