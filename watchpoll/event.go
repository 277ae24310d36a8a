package watchpoll

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

// eventOverhead approximates the protobuf framing of one event, for the
// queue's byte budget.
const eventOverhead = 32

// eventsField is the field number of WatchResponse.events.
var eventsField = (&pb.WatchResponse{}).ProtoReflect().Descriptor().Fields().ByName("events").Number()

// event is one log row ready to send, shared read-only by every watcher it
// matches: the two variants differ only in PrevKv.
type event struct {
	rev      int64
	key      []byte
	plain    *mvccpb.Event // without prev_kv
	withPrev *mvccpb.Event // with prev_kv when the log still has it
	size     int           // approximate encoded size of withPrev
	// alone is the payload of this event by itself, plain and withPrev,
	// built on first use under Hub.mu.
	alone [2]*payload
}

// payload is the events of one response, encoded once and shared
// read-only by every watcher that is sent the same ones.
type payload struct {
	events []*mvccpb.Event
	// wire is events encoded as WatchResponse.events fields, exactly the
	// bytes proto.Marshal would write for them; nil if encoding failed.
	wire []byte
	size int // approximate encoded size, for the queue's byte budget
}

// newPayload encodes evs once for every response that carries them.
func newPayload(evs []*mvccpb.Event, size int) *payload {
	n := 0
	for _, ev := range evs {
		n += protowire.SizeTag(eventsField) + protowire.SizeBytes(proto.Size(ev))
	}
	wire := make([]byte, 0, n)
	opts := proto.MarshalOptions{UseCachedSize: true}
	for _, ev := range evs {
		wire = protowire.AppendTag(wire, eventsField, protowire.BytesType)
		wire = protowire.AppendVarint(wire, uint64(proto.Size(ev)))
		var err error
		if wire, err = opts.MarshalAppend(wire, ev); err != nil {
			// Send the events themselves and let gRPC report the error.
			return &payload{events: evs, size: size}
		}
	}
	return &payload{events: evs, wire: wire, size: size}
}

// variant is the event as a watcher with or without prev_kv gets it.
func (e *event) variant(prevKV bool) *mvccpb.Event {
	if prevKV {
		return e.withPrev
	}
	return e.plain
}

// payloadAlone is the payload of e by itself. Called with Hub.mu held.
func (e *event) payloadAlone(prevKV bool) *payload {
	i := 0
	if prevKV {
		i = 1
	}
	if e.alone[i] == nil {
		e.alone[i] = newPayload([]*mvccpb.Event{e.variant(prevKV)}, e.size)
	}
	return e.alone[i]
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
