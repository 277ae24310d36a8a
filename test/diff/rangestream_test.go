package diff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// streamCall collects a whole RangeStream. The chunks are carried as the
// range responses of a TxnResponse only so that the harness can compare
// them, chunk boundaries and headers included.
func streamCall(r *pb.RangeRequest) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		st, err := s.KV.RangeStream(ctx, r)
		if err != nil {
			return nil, err
		}
		out := &pb.TxnResponse{}
		for {
			c, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			out.Responses = append(out.Responses, &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: c.RangeResponse}})
		}
	}
}

func TestRangeStream(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		for i := range 300 {
			p.MustPut(t, fmt.Sprintf("s/%03d", i), fmt.Sprintf("value-%d", i))
		}
		mid := p.MustPut(t, "s/150", "changed")
		p.MustPut(t, "t", "outside")
		cases := []struct {
			name string
			r    *pb.RangeRequest
		}{
			{"whole prefix", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0")}},
			{"limit inside a chunk", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Limit: 5}},
			{"limit across chunks", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Limit: 77}},
			{"keys only", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), KeysOnly: true}},
			{"count only", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), CountOnly: true}},
			{"at a revision", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Revision: mid - 1}},
			{"single key", &pb.RangeRequest{Key: []byte("t")}},
			{"missing key", &pb.RangeRequest{Key: []byte("nope")}},
			{"all keys", &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Limit: 250}},
			{"future revision", &pb.RangeRequest{Key: []byte("s/"), Revision: mid + 100}},
			{"empty key", &pb.RangeRequest{}},
			{"custom sort", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), SortOrder: pb.RangeRequest_DESCEND}},
			{"revision filter", &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), MinModRevision: 3}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p.Check(t, c.name, streamCall(c.r))
			})
		}
	})
}
