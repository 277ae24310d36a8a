package mvcc

import (
	"context"
	"encoding/binary"
	gohash "hash"
	"hash/crc32"

	"github.com/strata-db/strata/pkg/kv"
)

// hashPage is how many rows the hash reads at a time.
const hashPage = 1000

// HashKV hashes the keyspace's history as of rev (0: now), as etcd's
// HashKV does: the live keys at the compact revision and every change after
// it up to rev, so that equal data gives an equal hash whether or not the
// physical compaction has finished.
// It returns the hash, the current and compact revisions, and the revision
// hashed.
func (s *Store) HashKV(ctx context.Context, rev int64) (hash uint32, current, compacted, hashRev int64, err error) {
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		cur, comp, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		current, compacted = cur, comp
		switch {
		case rev > 0 && rev < comp:
			return kv.ErrCompacted
		case rev > cur:
			return kv.ErrFutureRev
		case rev == 0:
			rev = cur
		}
		hashRev = rev
		sum := crc32.New(crc32.MakeTable(crc32.Castagnoli))
		if comp > 0 {
			if err := hashLive(ctx, tx, sum, comp); err != nil {
				return err
			}
		}
		if err := hashChanges(ctx, tx, sum, max(comp, 0), rev); err != nil {
			return err
		}
		hash = sum.Sum32()
		return nil
	})
	return hash, current, compacted, hashRev, err
}

func hashLive(ctx context.Context, tx kv.ReadTxn, sum gohash.Hash32, at int64) error {
	r := kv.Range{Start: []byte{0}}
	for {
		kvs, err := tx.Range(ctx, r, at, hashPage, false)
		if err != nil {
			return err
		}
		for _, v := range kvs {
			hashKV(sum, v, false)
		}
		if len(kvs) < hashPage {
			return nil
		}
		r.Start = append(append([]byte{}, kvs[len(kvs)-1].Key...), 0)
	}
}

func hashChanges(ctx context.Context, tx kv.ReadTxn, sum gohash.Hash32, after, through int64) error {
	for after < through {
		evs, read, err := tx.Events(ctx, after, through, hashPage, false)
		if err != nil {
			return err
		}
		for _, e := range evs {
			hashKV(sum, e.KV, e.Deleted)
		}
		after = read
	}
	return nil
}

func hashKV(sum gohash.Hash32, v *kv.KeyValue, deleted bool) {
	var b [8]byte
	for _, n := range []int64{v.ModRevision, v.CreateRevision, v.Version, v.Lease, int64(len(v.Key)), int64(len(v.Value))} {
		binary.BigEndian.PutUint64(b[:], uint64(n))
		sum.Write(b[:])
	}
	sum.Write(v.Key)
	sum.Write(v.Value)
	if deleted {
		sum.Write([]byte{1})
	} else {
		sum.Write([]byte{0})
	}
}
