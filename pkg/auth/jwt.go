package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/strata-db/strata/pkg/kv"
)

// DefaultJWTTTL is the lifetime of a JWT when --auth-token names none, as
// etcd's.
const DefaultJWTTTL = 5 * time.Minute

// jwtTokens are etcd's JWT tokens: signed claims of the user name, the
// auth revision and the expiry. They need no shared state: every process
// configured with the same keys accepts the others' tokens.
type jwtTokens struct {
	log        *slog.Logger
	method     jwt.SigningMethod
	key        any
	ttl        time.Duration
	verifyOnly bool
}

// newJWTTokens reads etcd's JWT options: sign-method, pub-key, priv-key
// (key files) and ttl.
func newJWTTokens(opts map[string]string, log *slog.Logger) (*jwtTokens, error) {
	t := &jwtTokens{log: log, ttl: DefaultJWTTTL}
	if s := opts["ttl"]; s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%w: ttl: %v", ErrInvalidAuthOpts, err)
		}
		t.ttl = d
	}
	read := func(name string) ([]byte, error) {
		if opts[name] == "" {
			return nil, nil
		}
		return os.ReadFile(opts[name])
	}
	pub, err := read("pub-key")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAuthOpts, err)
	}
	priv, err := read("priv-key")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAuthOpts, err)
	}
	if t.method = jwt.GetSigningMethod(opts["sign-method"]); t.method == nil {
		return nil, ErrInvalidAuthMethod
	}
	if t.key, err = jwtKey(t.method, pub, priv); err != nil {
		return nil, err
	}
	switch t.key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		t.verifyOnly = true
	}
	return t, nil
}

// jwtKey parses the keys for method: the private key when given (checked
// against the public one), else the public key alone (verify only).
func jwtKey(method jwt.SigningMethod, pub, priv []byte) (any, error) {
	switch method.(type) {
	case *jwt.SigningMethodHMAC:
		if len(priv) == 0 {
			return nil, ErrMissingKey
		}
		return priv, nil
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		return keyPair(pub, priv, jwt.ParseRSAPublicKeyFromPEM, jwt.ParseRSAPrivateKeyFromPEM)
	case *jwt.SigningMethodECDSA:
		return keyPair(pub, priv, jwt.ParseECPublicKeyFromPEM, jwt.ParseECPrivateKeyFromPEM)
	case *jwt.SigningMethodEd25519:
		return keyPair(pub, priv,
			func(b []byte) (ed25519.PublicKey, error) {
				k, err := jwt.ParseEdPublicKeyFromPEM(b)
				if err != nil {
					return nil, err
				}
				return k.(ed25519.PublicKey), nil
			},
			func(b []byte) (ed25519.PrivateKey, error) {
				k, err := jwt.ParseEdPrivateKeyFromPEM(b)
				if err != nil {
					return nil, err
				}
				return k.(ed25519.PrivateKey), nil
			})
	}
	return nil, fmt.Errorf("auth: unsupported signing method: %T", method)
}

type publicKey interface{ Equal(crypto.PublicKey) bool }

type privateKey interface{ Public() crypto.PublicKey }

func keyPair[P publicKey, S privateKey](pub, priv []byte, parsePub func([]byte) (P, error), parsePriv func([]byte) (S, error)) (any, error) {
	var p P
	var s S
	var err error
	if len(priv) > 0 {
		if s, err = parsePriv(priv); err != nil {
			return nil, err
		}
	}
	if len(pub) > 0 {
		if p, err = parsePub(pub); err != nil {
			return nil, err
		}
	}
	switch {
	case len(priv) == 0 && len(pub) == 0:
		return nil, ErrMissingKey
	case len(priv) == 0:
		return p, nil
	case len(pub) > 0 && !p.Equal(s.Public()):
		return nil, ErrKeyMismatch
	}
	return s, nil
}

func (t *jwtTokens) genPrefix() (string, error)             { return "", nil }
func (t *jwtTokens) issued(context.Context, string, string) {}
func (t *jwtTokens) reset()                                 {}
func (t *jwtTokens) sweep(context.Context)                  {}

// Assign signs the claims; it writes nothing.
func (t *jwtTokens) Assign(_ context.Context, _ kv.AuthWriteTxn, name string, revision uint64, _ string) (string, error) {
	if t.verifyOnly {
		return "", ErrVerifyOnly
	}
	tk := jwt.NewWithClaims(t.method, jwt.MapClaims{
		"username": name,
		"revision": revision,
		"exp":      time.Now().Add(t.ttl).Unix(),
	})
	return tk.SignedString(t.key)
}

func (t *jwtTokens) verifyKey() any {
	switch k := t.key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	}
	return t.key
}

// info verifies the signature and expiry and reads the claims, as etcd.
func (t *jwtTokens) info(_ context.Context, token string, _ *State) (*Info, bool) {
	parsed, err := jwt.Parse(token, func(tk *jwt.Token) (any, error) {
		if tk.Method.Alg() != t.method.Alg() {
			return nil, errors.New("invalid signing method")
		}
		return t.verifyKey(), nil
	})
	if err != nil {
		t.log.Debug("auth: invalid JWT", "err", err)
		return nil, false
	}
	claims, ok := parsed.Claims.(jwt.MapClaims)
	if !parsed.Valid || !ok {
		return nil, false
	}
	name, ok := claims["username"].(string)
	if !ok {
		return nil, false
	}
	rev, ok := claims["revision"].(float64)
	if !ok {
		return nil, false
	}
	return &Info{Username: name, Revision: uint64(rev)}, true
}
