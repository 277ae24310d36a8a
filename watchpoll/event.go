package watchpoll

import (
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/strata-db/strata/pkg/kv"
)

// eventOverhead approximates the protobuf framing of one event, for the
// queue's byte budget.
const eventOverhead = 32

// event is one log row ready to send, shared read-only by every watcher it
// matches: the two variants differ only in PrevKv.
type event struct {
	rev      int64
	key      []byte
	plain    *mvccpb.Event // without prev_kv
	withPrev *mvccpb.Event // with prev_kv when the log still has it
	size     int           // approximate encoded size of withPrev
}

// toEvents converts the rows of one read. compacted is the compact revision
// of the same snapshot: as etcd reads the previous value at mod_revision-1,
// an event whose mod_revision-1 is below it gets no prev_kv.
func toEvents(rows []kv.Event, compacted int64) []*event {
	out := make([]*event, len(rows))
	for i := range rows {
		r := &rows[i]
		typ := mvccpb.Event_PUT
		if r.Deleted {
			typ = mvccpb.Event_DELETE
		}
		e := &event{rev: r.KV.ModRevision, key: r.KV.Key}
		e.plain = &mvccpb.Event{Type: typ, Kv: r.KV}
		e.withPrev = e.plain
		e.size = eventOverhead + len(r.KV.Key) + len(r.KV.Value)
		if r.Prev != nil && r.KV.ModRevision-1 >= compacted {
			e.withPrev = &mvccpb.Event{Type: typ, Kv: r.KV, PrevKv: r.Prev}
			e.size += eventOverhead + len(r.Prev.Key) + len(r.Prev.Value)
		}
		out[i] = e
	}
	return out
}

// byRevision splits revision-ordered events into one slice per revision.
func byRevision(evs []*event) [][]*event {
	var out [][]*event
	for i := 0; i < len(evs); {
		j := i + 1
		for j < len(evs) && evs[j].rev == evs[i].rev {
			j++
		}
		out = append(out, evs[i:j])
		i = j
	}
	return out
}
