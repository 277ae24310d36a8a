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
	// built on first use under Hub.mu. Payloads of several events copy
	// its encoding.
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

// encodeEvent encodes ev as one WatchResponse.events field; nil if it
// cannot be encoded.
func encodeEvent(ev *mvccpb.Event) []byte {
	n := proto.Size(ev)
	wire := make([]byte, 0, protowire.SizeTag(eventsField)+protowire.SizeBytes(n))
	wire = protowire.AppendTag(wire, eventsField, protowire.BytesType)
	wire = protowire.AppendVarint(wire, uint64(n))
	wire, err := proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(wire, ev)
	if err != nil {
		return nil // send the event itself and let gRPC report the error
	}
	return wire
}

// variant is the event as a watcher with or without prev_kv gets it.
func (e *event) variant(prevKV bool) *mvccpb.Event {
	if prevKV {
		return e.withPrev
	}
	return e.plain
}

// payloadAlone is the payload of e by itself, encoded on first use.
// Called with Hub.mu held.
func (e *event) payloadAlone(prevKV bool) *payload {
	i := boolIndex(prevKV)
	if e.alone[i] == nil {
		ev := e.variant(prevKV)
		e.alone[i] = &payload{events: []*mvccpb.Event{ev}, wire: encodeEvent(ev), size: e.size}
	}
	return e.alone[i]
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// joinPayloads is the payload of several events, each with or without
// prev_kv, from their encodings alone. Called with Hub.mu held.
func joinPayloads(evs []*event, prevKV bool) *payload {
	p := &payload{events: make([]*mvccpb.Event, len(evs))}
	n := 0
	for i, e := range evs {
		a := e.payloadAlone(prevKV)
		p.events[i] = a.events[0]
		p.size += a.size
		if n >= 0 && a.wire != nil {
			n += len(a.wire)
		} else {
			n = -1
		}
	}
	if n < 0 {
		return p
	}
	p.wire = make([]byte, 0, n)
	for _, e := range evs {
		p.wire = append(p.wire, e.alone[boolIndex(prevKV)].wire...)
	}
	return p
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
