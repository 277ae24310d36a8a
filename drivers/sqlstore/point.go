package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/strata-db/strata/pkg/kv"
)

var (
	_ kv.PointReader    = (*Store)(nil)
	_ kv.RevisionKeeper = (*Store)(nil)
)

// KnownRevisions reports the committed and compact revisions a store that
// owns its database keeps in memory (see history), once every commit up to
// them is durable: exactly, as nothing else writes there. Any other store
// reports those of its own last commit (lastRev, lastCompacted), if it has
// made one.
func (s *Store) KnownRevisions(context.Context) (current, compacted int64, ok, exact bool, err error) {
	if s.hist == nil {
		s.lastMu.Lock()
		defer s.lastMu.Unlock()
		return s.lastRev, s.lastCompacted, s.lastRev > 0, false, nil
	}
	current, compacted = s.hist.revisions()
	if s.gate != nil {
		if err := s.gate.waitIssued(); err != nil {
			return 0, 0, false, false, err
		}
	}
	return current, compacted, true, true, nil
}

// ReadLatest reads one key's latest value and the revisions in a single
// statement on the reader pool: no BEGIN, no COMMIT.
func (s *Store) ReadLatest(ctx context.Context, key []byte) (*kv.KeyValue, int64, int64, error) {
	if s.hist != nil {
		return s.readLatestFromLog(ctx, key)
	}
	var cur, comp int64
	var name, value []byte
	var create, mod, ver, lease sql.NullInt64
	var row *sql.Row
	if st := s.rstmts.get(s.q.getKeyAtLatest); st != nil {
		row = st.QueryRowContext(ctx, key)
	} else {
		row = s.rdb.QueryRowContext(ctx, s.q.getKeyAtLatest, key)
	}
	if err := row.Scan(&cur, &comp, &name, &value, &create, &mod, &ver, &lease); err != nil {
		return nil, 0, 0, fmt.Errorf("sqlstore: read latest: %w", s.d.Classify(err))
	}
	if s.gate != nil {
		if err := s.gate.waitIssued(); err != nil {
			return nil, 0, 0, err
		}
	}
	if name == nil {
		return nil, cur, comp, nil
	}
	v := &kv.KeyValue{Key: name, Value: value, CreateRevision: create.Int64, ModRevision: mod.Int64, Version: ver.Int64, Lease: lease.Int64}
	return normalize(v), cur, comp, nil
}

// readLatestFromLog is ReadLatest through the history: the key's row at
// the last committed revision, from the value cache or else read by primary
// key in one statement with the compact revision. A compaction that removed
// the row between the two (the key was written again and compacted
// meanwhile) makes it look again.
func (s *Store) readLatestFromLog(ctx context.Context, key []byte) (*kv.KeyValue, int64, int64, error) {
	for {
		cur, row, found, v, comp := s.hist.latestCommitted(key)
		if found && v == nil {
			var name, value []byte
			var create, mod, ver, lease sql.NullInt64
			err := s.rstmts.get(s.q.pointRow).QueryRowContext(ctx, row.rev, row.sub).Scan(&comp, &name, &value, &create, &mod, &ver, &lease)
			if err != nil {
				return nil, 0, 0, fmt.Errorf("sqlstore: read latest: %w", s.d.Classify(err))
			}
			if name == nil || comp > cur {
				continue
			}
			v = normalize(&kv.KeyValue{Key: name, Value: value, CreateRevision: create.Int64, ModRevision: mod.Int64, Version: ver.Int64, Lease: lease.Int64})
			s.hist.fill([]rowRef{row}, []*kv.KeyValue{v})
		}
		if s.gate != nil {
			if err := s.gate.waitIssued(); err != nil {
				return nil, 0, 0, err
			}
		}
		return v, cur, comp, nil
	}
}
