package diff

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
	_ "modernc.org/sqlite"
)

// hashShape keeps what HashKV must agree on with etcd: everything but the
// hash itself, whose bytes depend on each server's storage encoding.
func hashShape(r *pb.HashKVRequest) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		resp, err := s.Maintenance.HashKV(ctx, r)
		if err != nil {
			return nil, err
		}
		resp.Hash = 0
		return resp, nil
	}
}

func TestMaintenanceAnswers(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		for i := range 5 {
			p.MustPut(t, "m", string(rune('a'+i)))
		}
		p.Check(t, "hashkv now, never compacted", hashShape(&pb.HashKVRequest{}))
		p.Check(t, "hashkv at 3", hashShape(&pb.HashKVRequest{Revision: 3}))
		p.Check(t, "hashkv in the future", hashShape(&pb.HashKVRequest{Revision: 100}))
		p.Check(t, "compact", func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.KV.Compact(ctx, &pb.CompactionRequest{Revision: 4, Physical: true})
		})
		p.Check(t, "hashkv below the compact revision", hashShape(&pb.HashKVRequest{Revision: 3}))
		// At exactly a compact revision both answer from the hash taken when
		// compacting, whose compact_revision is the one before.
		p.Check(t, "hashkv at the compact revision", hashShape(&pb.HashKVRequest{Revision: 4}))
		p.Check(t, "hashkv now, compacted", hashShape(&pb.HashKVRequest{}))
		p.Check(t, "defragment", func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.Maintenance.Defragment(ctx, &pb.DefragmentRequest{})
		})
		p.Check(t, "move leader to an unknown member", func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.Maintenance.MoveLeader(ctx, &pb.MoveLeaderRequest{TargetID: 12345})
		})
		p.Check(t, "move leader to itself", func(ctx context.Context, s *Side) (proto.Message, error) {
			st, err := s.Maintenance.Status(ctx, &pb.StatusRequest{})
			if err != nil {
				return nil, err
			}
			return s.Maintenance.MoveLeader(ctx, &pb.MoveLeaderRequest{TargetID: st.Header.MemberId})
		})
		p.Check(t, "data intact after defragment", func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.KV.Range(ctx, &pb.RangeRequest{Key: []byte("m")})
		})
	})
}

// TestHashKVIsAboutData: two Strata servers given the same operations hash
// alike, before and after compaction, and a different write changes it.
func TestHashKVIsAboutData(t *testing.T) {
	p := NewServerPair(t, "sqlite")
	q := NewServerPair(t, "sqlite")
	hash := func(s *Side, rev int64) uint32 {
		r, err := s.Maintenance.HashKV(context.Background(), &pb.HashKVRequest{Revision: rev})
		if err != nil {
			t.Fatal(err)
		}
		return r.Hash
	}
	for _, x := range []*Pair{p, q} {
		for i := range 20 {
			x.MustPut(t, string(rune('a'+i%4)), string(rune('0'+i)))
		}
	}
	if hash(p.Strata, 0) != hash(q.Strata, 0) {
		t.Fatal("equal data, different hashes")
	}
	before := hash(p.Strata, 0)
	if _, err := p.Strata.KV.Compact(context.Background(), &pb.CompactionRequest{Revision: 15, Physical: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Strata.KV.Compact(context.Background(), &pb.CompactionRequest{Revision: 15}); err != nil {
		t.Fatal(err)
	}
	if hash(p.Strata, 0) != hash(q.Strata, 0) {
		t.Fatal("compacted with and without physical removal: different hashes")
	}
	if hash(p.Strata, 0) == before {
		t.Fatal("compaction did not change the hashed history")
	}
	q.MustPut(t, "z", "other")
	if hash(p.Strata, 21) != hash(q.Strata, 21) {
		t.Fatal("a later write changed the hash at an earlier revision")
	}
	if hash(p.Strata, 0) == hash(q.Strata, 0) {
		t.Fatal("different data, equal hashes")
	}
}

// TestSnapshotIsARestorableCopy: Snapshot streams the database with etcd's
// trailing SHA-256, and the bytes are a SQLite database holding the data.
func TestSnapshotIsARestorableCopy(t *testing.T) {
	p := NewServerPair(t, "sqlite")
	for i := range 50 {
		p.MustPut(t, string(rune('a'+i%26)), "value")
	}
	st, err := p.Strata.Maintenance.Snapshot(context.Background(), &pb.SnapshotRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var data, sum []byte
	for {
		r, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.RemainingBytes == 0 && len(sum) == 0 && len(data) > 0 && len(r.Blob) == sha256.Size {
			sum = r.Blob
			continue
		}
		data = append(data, r.Blob...)
	}
	if got := sha256.Sum256(data); string(got[:]) != string(sum) {
		t.Fatalf("snapshot checksum mismatch (%d bytes)", len(data))
	}
	path := filepath.Join(t.TempDir(), "snap.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var keys, rev int64
	// Every key was put and none deleted: the keys are the log's names (a
	// server that owns its file keeps no table of latest values).
	if err := db.QueryRow("SELECT COUNT(DISTINCT name) FROM strata_log WHERE deleted = 0").Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT value FROM strata_meta WHERE name = 'revision'").Scan(&rev); err != nil {
		t.Fatal(err)
	}
	if keys != 26 || rev != 51 {
		t.Fatalf("snapshot holds %d keys at revision %d, want 26 at 51", keys, rev)
	}
}

// TestHashKVAtCompactRevisionIsStable: the hash at a compact revision is
// the same before and after the compaction removes history, as etcd's
// (its corruption checks compare members' hashes across compactions).
func TestHashKVAtCompactRevisionIsStable(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		for i := range 10 {
			p.MustPut(t, string(rune('a'+i%3)), string(rune('0'+i)))
		}
		for _, s := range []*Side{p.Etcd, p.Strata} {
			ctx := context.Background()
			before, err := s.Maintenance.HashKV(ctx, &pb.HashKVRequest{Revision: 8})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.KV.Compact(ctx, &pb.CompactionRequest{Revision: 8, Physical: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Maintenance.Defragment(ctx, &pb.DefragmentRequest{}); err != nil {
				t.Fatal(err)
			}
			after, err := s.Maintenance.HashKV(ctx, &pb.HashKVRequest{Revision: 8})
			if err != nil {
				t.Fatal(err)
			}
			if before.Hash != after.Hash || before.CompactRevision != after.CompactRevision {
				t.Errorf("%s: hash at the compact revision changed with the compaction: %x (compact %d) then %x (compact %d)",
					s.Name, before.Hash, before.CompactRevision, after.Hash, after.CompactRevision)
			}
		}
	})
}
