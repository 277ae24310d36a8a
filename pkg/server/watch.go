package server

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// watchOverheadBytes is what etcd adds to --max-request-bytes to get the
// size above which a fragmenting watch splits its responses.
const watchOverheadBytes = 512 * 1024

// WatchHub is what the Watch service needs from the watch poller's hub.
type WatchHub interface {
	// NewWatchStream opens the server side of one Watch stream.
	NewWatchStream() WatchStream
}

// WatchStream is one Watch stream of the hub: requests go in through
// Handle, responses (events, created, cancelled, progress) come out of
// Next in the order they must be sent. Handle is called from one goroutine
// and Next from one other.
type WatchStream interface {
	// Handle acts on one request; an error ends the stream.
	Handle(ctx context.Context, r *pb.WatchRequest) error
	// Next waits for the next response; fragment reports that its watch
	// asked for large responses to be split, and then resp.Events holds
	// its events. Otherwise they may come pre-encoded as resp's unknown
	// fields, which proto.Marshal writes as they are: send resp, do not
	// read its events.
	Next(ctx context.Context) (resp *pb.WatchResponse, fragment bool, err error)
	// Close cancels the stream's watches.
	Close()
	// Refuse answers a create request the server turned down (permission
	// denied) as etcd does, in order with the stream's other responses: a
	// created and cancelled response with watch ID -1 and the reason.
	Refuse(ctx context.Context, reason string) error
}

type watchService struct {
	pb.UnimplementedWatchServer
	s *Server
}

func (s *Server) registerWatch(g *grpc.Server) {
	if s.watch == nil {
		pb.RegisterWatchServer(g, pb.UnimplementedWatchServer{})
		return
	}
	pb.RegisterWatchServer(g, &watchService{s: s})
}

// Watch serves one stream: this goroutine sends responses, a second one
// receives requests. The receiving goroutine cannot be joined here: it
// returns when gRPC ends the stream, at the latest right after Watch
// returns; the stream it feeds is closed by then and ignores it. As in
// etcd, a client that closes its send side keeps receiving until it goes
// away. Require-leader metadata needs nothing: a single member always has
// a leader.
func (ws *watchService) Watch(gs pb.Watch_WatchServer) error {
	ctx := gs.Context()
	st := ws.s.watch.NewWatchStream()
	recvErr := make(chan error, 1)
	go func() {
		if err := ws.recvLoop(ctx, gs, st); err != nil {
			recvErr <- err
			st.Close() // wakes the send loop
		}
	}()
	err := ws.sendLoop(ctx, gs, st)
	st.Close()
	select {
	case err = <-recvErr:
	default:
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return rpctypes.ErrGRPCWatchCanceled
	}
	return toGRPC(err)
}

// recvLoop hands requests to the stream until the client closes its side
// (nil) or the stream fails.
func (ws *watchService) recvLoop(ctx context.Context, gs pb.Watch_WatchServer, st WatchStream) error {
	for {
		req, err := gs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if reason := ws.s.watchRefusal(ctx, req); reason != "" {
			if err := st.Refuse(ctx, reason); err != nil {
				return err
			}
			continue
		}
		if err := st.Handle(ctx, req); err != nil {
			return err
		}
	}
}

func (ws *watchService) sendLoop(ctx context.Context, gs pb.Watch_WatchServer, st WatchStream) error {
	limit := ws.s.cfg.MaxRequestBytes + watchOverheadBytes
	for {
		resp, fragment, err := st.Next(ctx)
		if err != nil {
			return err
		}
		h := resp.Header
		h.ClusterId, h.MemberId, h.RaftTerm = ws.s.cfg.ClusterID, ws.s.cfg.MemberID, raftTerm
		if fragment {
			err = sendFragments(resp, limit, gs.Send)
		} else {
			err = gs.Send(resp)
		}
		if err != nil {
			return err
		}
	}
}

// sendFragments splits a response larger than limit into responses of as
// many events as fit (at least one each), all but the last marked
// fragment, exactly as etcd splits them.
func sendFragments(wr *pb.WatchResponse, limit int, send func(*pb.WatchResponse) error) error {
	if proto.Size(wr) < limit || len(wr.Events) < 2 {
		return send(wr)
	}
	for idx := 0; ; {
		cur := &pb.WatchResponse{
			Header: wr.Header, WatchId: wr.WatchId, Created: wr.Created, Canceled: wr.Canceled,
			CompactRevision: wr.CompactRevision, CancelReason: wr.CancelReason,
			Fragment: true, Events: make([]*mvccpb.Event, 0),
		}
		for _, ev := range wr.Events[idx:] {
			cur.Events = append(cur.Events, ev)
			if len(cur.Events) > 1 && proto.Size(cur) >= limit {
				cur.Events = cur.Events[:len(cur.Events)-1]
				break
			}
			idx++
		}
		cur.Fragment = idx < len(wr.Events)
		if err := send(cur); err != nil {
			return err
		}
		if !cur.Fragment {
			return nil
		}
	}
}
