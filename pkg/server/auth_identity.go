package server

import (
	"context"
	"errors"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/pkg/auth"
)

// authErrors are etcd's gRPC errors for the auth store's errors (etcd's
// togRPCError); the others answer codes.Unknown with their text, as etcd.
var authErrors = map[error]error{
	auth.ErrRootUserNotExist:     rpctypes.ErrGRPCRootUserNotExist,
	auth.ErrRootRoleNotExist:     rpctypes.ErrGRPCRootRoleNotExist,
	auth.ErrUserAlreadyExist:     rpctypes.ErrGRPCUserAlreadyExist,
	auth.ErrUserEmpty:            rpctypes.ErrGRPCUserEmpty,
	auth.ErrUserNotFound:         rpctypes.ErrGRPCUserNotFound,
	auth.ErrRoleAlreadyExist:     rpctypes.ErrGRPCRoleAlreadyExist,
	auth.ErrRoleNotFound:         rpctypes.ErrGRPCRoleNotFound,
	auth.ErrRoleEmpty:            rpctypes.ErrGRPCRoleEmpty,
	auth.ErrAuthFailed:           rpctypes.ErrGRPCAuthFailed,
	auth.ErrPermissionNotGiven:   rpctypes.ErrGRPCPermissionNotGiven,
	auth.ErrPermissionDenied:     rpctypes.ErrGRPCPermissionDenied,
	auth.ErrRoleNotGranted:       rpctypes.ErrGRPCRoleNotGranted,
	auth.ErrPermissionNotGranted: rpctypes.ErrGRPCPermissionNotGranted,
	auth.ErrAuthNotEnabled:       rpctypes.ErrGRPCAuthNotEnabled,
	auth.ErrInvalidAuthToken:     rpctypes.ErrGRPCInvalidAuthToken,
	auth.ErrInvalidAuthMgmt:      rpctypes.ErrGRPCInvalidAuthMgmt,
	auth.ErrAuthOldRevision:      rpctypes.ErrGRPCAuthOldRevision,
}

// authToGRPC translates an auth error; ok is false for other errors.
func authToGRPC(err error) (error, bool) {
	for e, g := range authErrors {
		if errors.Is(err, e) {
			return g, true
		}
	}
	if auth.IsLogical(err) || errors.Is(err, auth.ErrVerifyOnly) {
		return status.Error(codes.Unknown, unwrapAll(err).Error()), true
	}
	return nil, false
}

// unwrapAll returns the innermost error, whose text is etcd's.
func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// authInfo is etcd's AuthInfoFromCtx: with auth disabled, nobody (tokens
// are ignored); else the user of the token in the request's metadata (an
// invalid token fails), or the common name of the client certificate
// with --client-cert-auth, or nobody. It returns the State it judged by.
func (s *Server) authInfo(ctx context.Context) (*auth.State, *auth.Info, error) {
	st := s.auth.State()
	if !st.Enabled {
		return st, nil, nil
	}
	if token, ok := tokenFrom(ctx); ok {
		ai, err := s.auth.TokenInfo(ctx, token, st)
		if err != nil {
			s.log.Warn("invalid auth token", "err", err)
			return st, nil, err
		}
		if ai.Revision > st.Revision {
			// A token from a later state than this process has seen (issued
			// by another process): read the store again.
			if st, err = s.auth.Refresh(ctx); err != nil {
				return st, nil, err
			}
		}
		return st, ai, nil
	}
	if s.cfg.ClientCertAuth {
		if cn := commonName(ctx); cn != "" {
			return st, &auth.Info{Username: cn, Revision: st.Revision}, nil
		}
	}
	return st, nil, nil
}

// tokenFrom reads the token etcd's clients send in the "token" metadata
// (or "authorization", with an optional "Bearer " prefix).
func tokenFrom(ctx context.Context) (string, bool) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return "", false
	}
	ts, ok := md[rpctypes.TokenFieldNameGRPC]
	if !ok {
		ts, ok = md[rpctypes.TokenFieldNameSwagger]
	}
	if !ok || len(ts) == 0 {
		return "", false
	}
	return strings.TrimPrefix(ts[0], "Bearer "), true
}

// commonName is the common name of the client's verified certificate, as
// etcd's AuthInfoFromTLS (a gRPC-gateway request never authenticates so).
func commonName(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p == nil || p.AuthInfo == nil {
		return ""
	}
	tlsInfo, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ""
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md["grpcgateway-accept"]) > 0 {
		return ""
	}
	for _, chain := range tlsInfo.State.VerifiedChains {
		if len(chain) > 0 {
			return chain[0].Subject.CommonName
		}
	}
	return ""
}

// requireAuthInfo is etcd's: with auth enabled, the request must name a
// user.
func (s *Server) requireAuthInfo(ctx context.Context) error {
	st, ai, err := s.authInfo(ctx)
	if err != nil {
		return toGRPC(err)
	}
	if ai == nil && st.Enabled {
		return rpctypes.ErrGRPCUserEmpty
	}
	return nil
}

// requireAdmin is etcd's AuthAdmin.isPermitted: the user must have the
// root role.
func (s *Server) requireAdmin(ctx context.Context) error {
	st, ai, err := s.authInfo(ctx)
	if err != nil {
		return toGRPC(err)
	}
	return toGRPC(st.IsAdminPermitted(ai))
}

// serialize is etcd's doSerialize for reads served outside the writer:
// check, read, then refuse the answer if the auth store changed in
// between under a token of the old revision.
func (s *Server) serialize(ctx context.Context, check func(*auth.State, *auth.Info) error, read func() error) error {
	st, ai, err := s.authInfo(ctx)
	if err != nil {
		return toGRPC(err)
	}
	if ai == nil {
		ai = &auth.Info{}
	}
	if err := check(st, ai); err != nil {
		return toGRPC(err)
	}
	if err := read(); err != nil {
		return err
	}
	if ai.Revision != 0 && ai.Revision != s.auth.State().Revision {
		return rpctypes.ErrGRPCAuthOldRevision
	}
	return nil
}

// withAuth returns ctx carrying who the request comes from, for a write the
// engine checks when it applies it (as etcd's raft request header).
func (s *Server) withAuth(ctx context.Context) (context.Context, error) {
	_, ai, err := s.authInfo(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	if ai == nil {
		ai = &auth.Info{}
	}
	return auth.WithInfo(ctx, ai), nil
}
