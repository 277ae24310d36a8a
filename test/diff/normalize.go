package diff

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
)

// headerName is the message whose cluster-specific fields Normalize clears.
const headerName protoreflect.FullName = "etcdserverpb.ResponseHeader"

// clusterSpecific are the ResponseHeader fields that legitimately differ
// between two independent clusters.
var clusterSpecific = []protoreflect.Name{"cluster_id", "member_id", "raft_term"}

// Normalize returns a copy of m with cluster_id, member_id and raft_term
// cleared in every ResponseHeader it contains, at any depth (nested
// TxnResponses, watch events, ...). A nil m gives nil.
func Normalize(m proto.Message) proto.Message {
	if m == nil || !m.ProtoReflect().IsValid() {
		return m
	}
	c := proto.Clone(m)
	clearHeaders(c.ProtoReflect())
	return c
}

func clearHeaders(m protoreflect.Message) {
	if m.Descriptor().FullName() == headerName {
		for _, n := range clusterSpecific {
			m.Clear(m.Descriptor().Fields().ByName(n))
		}
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				clearHeaders(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				clearHeaders(mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsMap():
			clearHeaders(v.Message())
		}
		return true
	})
}

// Result is what one server answered to one request.
type Result struct {
	Resp proto.Message
	Err  error
}

// Mismatch describes how etcd's and Strata's results differ after
// normalisation, or returns "" when they agree.
func Mismatch(etcd, strata Result) string {
	switch {
	case etcd.Err != nil || strata.Err != nil:
		return errMismatch(etcd.Err, strata.Err)
	default:
		return respMismatch(etcd.Resp, strata.Resp)
	}
}

func errMismatch(etcd, strata error) string {
	e, s := describeErr(etcd), describeErr(strata)
	if e == s {
		return ""
	}
	return fmt.Sprintf("error differs:\n  etcd:   %s\n  strata: %s", e, s)
}

// describeErr renders an error as the gRPC code and message a client sees.
func describeErr(err error) string {
	if err == nil {
		return "<no error>"
	}
	st := status.Convert(err)
	return fmt.Sprintf("code=%s message=%q", st.Code(), st.Message())
}

func respMismatch(etcd, strata proto.Message) string {
	e, s := Normalize(etcd), Normalize(strata)
	if proto.Equal(e, s) {
		return ""
	}
	return "response differs (-etcd +strata):\n" + cmp.Diff(e, s, protocmp.Transform())
}
