package auth

import (
	"context"
	"crypto/rand"
	"math/big"
	"strings"
	"time"
)

// Token kinds of etcd's --auth-token.
const (
	TokenSimple = "simple"
	TokenJWT    = "jwt"
)

// DefaultTokenTTL is etcd's --auth-token-ttl: how long a simple token
// lives after its last use.
const DefaultTokenTTL = 300 * time.Second

// provider is one kind of token (etcd's TokenProvider).
type provider interface {
	Assigner
	// info resolves a token into the user it names and the auth revision
	// it carries; ok is false for a token that is not (or no longer) valid.
	info(ctx context.Context, token string, st *State) (ai *Info, ok bool)
	// genPrefix is the random part of a simple token ("" for a JWT),
	// chosen before the Authenticate operation is built.
	genPrefix() (string, error)
	// issued is told of a token once its Authenticate has committed.
	issued(ctx context.Context, token, name string)
	// reset forgets what was cached about tokens: the store changed.
	reset()
	// sweep removes what has expired.
	sweep(ctx context.Context)
}

// parseTokenOpts splits etcd's --auth-token value: a kind, then
// comma-separated key=value options.
func parseTokenOpts(s string) (kind string, opts map[string]string, err error) {
	parts := strings.Split(s, ",")
	opts = map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.Contains(v, "=") {
			return "", nil, ErrInvalidAuthOpts
		}
		if _, dup := opts[k]; dup {
			return "", nil, ErrInvalidAuthOpts
		}
		opts[k] = v
	}
	return parts[0], opts, nil
}

const (
	letters           = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	simpleTokenLength = 16
)

// randomLetters is the random part of a simple token, as etcd makes it.
func randomLetters() (string, error) {
	b := make([]byte, simpleTokenLength)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(letters))))
		if err != nil {
			return "", err
		}
		b[i] = letters[n.Int64()]
	}
	return string(b), nil
}
