package diff

import (
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// maxDescribe bounds how much of a request a failure message shows.
const maxDescribe = 400

// describe renders a request compactly for failure messages.
func describe(m proto.Message) string {
	b, err := prototext.MarshalOptions{}.Marshal(m)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	s := "{" + string(b) + "}"
	if len(s) > maxDescribe {
		s = s[:maxDescribe] + "...}"
	}
	return s
}

// describeResult renders a response or an error for logs.
func describeResult(r Result) string {
	if r.Err != nil {
		return describeErr(r.Err)
	}
	return describe(r.Resp)
}
