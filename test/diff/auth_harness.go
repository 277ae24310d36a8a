package diff

import (
	"context"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Creds are one user's tokens, one per side: tokens differ between two
// servers, so a call made as a user carries each side's own.
type Creds struct {
	User   string
	tokens map[*Side]string
}

// Token returns the user's token on side s.
func (c *Creds) Token(s *Side) string { return c.tokens[s] }

// As makes call carry the user's token (nil creds: no token).
func (p *Pair) As(c *Creds, call Call) Call {
	if c == nil {
		return call
	}
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		ctx = metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, c.tokens[s])
		return call(ctx, s)
	}
}

// WithToken makes call carry the same literal token on both sides (a bad
// one, say).
func WithToken(token string, call Call) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		ctx = metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
		return call(ctx, s)
	}
}

// Authenticate checks an Authenticate on both servers: the same error, or
// both a token (whose text differs) and the same header. It returns the
// tokens, or nil when etcd refused.
func (p *Pair) Authenticate(t testing.TB, user, password string) *Creds {
	t.Helper()
	e, s := p.Run(func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.Auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: user, Password: password})
	})
	what := "Authenticate " + user
	if oracleBroken(e.Err) {
		t.Fatalf("%s: oracle %s failed: %v", what, p.Etcd.Name, e.Err)
	}
	if e.Err != nil || s.Err != nil {
		if d := errMismatch(e.Err, s.Err); d != "" {
			t.Errorf("%s: %s", what, d)
		}
		return nil
	}
	er, sr := e.Resp.(*pb.AuthenticateResponse), s.Resp.(*pb.AuthenticateResponse)
	if er.Token == "" || sr.Token == "" {
		t.Errorf("%s: empty token: etcd %q, strata %q", what, er.Token, sr.Token)
	}
	if d := Mismatch(Result{Resp: er.Header}, Result{Resp: sr.Header}); d != "" {
		t.Errorf("%s: header: %s", what, d)
	}
	return &Creds{User: user, tokens: map[*Side]string{p.Etcd: er.Token, p.Strata: sr.Token}}
}

// MustAuthenticate is Authenticate that stops the test if either side
// refuses.
func (p *Pair) MustAuthenticate(t testing.TB, user, password string) *Creds {
	t.Helper()
	c := p.Authenticate(t, user, password)
	if c == nil {
		t.Fatalf("authenticate %s: refused", user)
	}
	return c
}

// AuthCall is one named call of an auth scenario, made as a user (nil: no
// token).
type AuthCall struct {
	Name string
	As   *Creds
	Call Call
}

// CheckAll runs the calls in order, comparing each.
func (p *Pair) CheckAll(t testing.TB, calls []AuthCall) {
	t.Helper()
	for _, c := range calls {
		p.Check(t, c.Name, p.As(c.As, c.Call))
	}
}
