package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

var _ kv.MemberWriteTxn = (*txn)(nil)

// memberStatements are the SQL of etcd's membership store. A member ID is
// a uint64 kept in a BIGINT column, bit for bit.
type memberStatements struct {
	list, del, ins string
}

func newMemberStatements(d Dialect) memberStatements {
	r := d.Rebind
	return memberStatements{
		list: r("SELECT id, removed, data FROM strata_member ORDER BY id"),
		del:  r("DELETE FROM strata_member WHERE id = ?"),
		ins:  r("INSERT INTO strata_member (id, data, removed) VALUES (?, ?, ?)"),
	}
}

func (t *txn) Members(ctx context.Context) ([]kv.StoredMember, error) {
	rows, err := t.query(ctx, t.s.mq.list)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read members: %w", err)
	}
	defer rows.Close()
	var out []kv.StoredMember
	for rows.Next() {
		var id, removed int64
		var b []byte
		if err := rows.Scan(&id, &removed, &b); err != nil {
			return nil, fmt.Errorf("sqlstore: read members: %w", err)
		}
		m := &pb.Member{}
		if err := proto.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("sqlstore: member %x: %w", uint64(id), err)
		}
		m.ID = uint64(id)
		out = append(out, kv.StoredMember{Member: m, Removed: removed != 0})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read members: %w", err)
	}
	// ORDER BY sorts the IDs as signed numbers; etcd lists them unsigned.
	slices.SortFunc(out, func(a, b kv.StoredMember) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (t *txn) PutMember(ctx context.Context, m kv.StoredMember) error {
	removed := int64(0)
	if m.Removed {
		removed = 1
	}
	if err := t.putRecord(ctx, t.s.mq.del, t.s.mq.ins, int64(m.ID), m.Member, removed); err != nil {
		return fmt.Errorf("sqlstore: put member: %w", err)
	}
	return nil
}
