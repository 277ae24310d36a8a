package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// simpleTokens are etcd's simple tokens: "<16 random letters>.<n>", valid
// until unused for the TTL, until their user is deleted or changes
// password, or until auth is disabled.
//
// etcd keeps them in each member's memory and replicates them through the
// raft log. Strata records each in the database (strata_auth_token), in the
// Authenticate operation, so every process sharing the database accepts a
// token any of them issued. The expiry is wall-clock state kept beside it
// (kv.AuthTokens), like a lease's: a use extends the token locally at once
// and in the database at most every TTL/4, so another process sees it
// alive; a token unknown to this process, or past its local expiry, is
// looked up in the database.
type simpleTokens struct {
	ttl time.Duration
	db  kv.AuthTokens
	log *slog.Logger

	mu     sync.Mutex
	tokens map[string]*tokenEntry // guarded by mu
}

// tokenEntry is what this process knows of one valid token.
type tokenEntry struct {
	name     string
	deadline time.Time // expiry as this process extended it
	touched  time.Time // when the database's expiry was last extended
}

func newSimpleTokens(ttl time.Duration, db kv.AuthTokens, log *slog.Logger) *simpleTokens {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	return &simpleTokens{ttl: ttl, db: db, log: log, tokens: map[string]*tokenEntry{}}
}

func (t *simpleTokens) genPrefix() (string, error) { return randomLetters() }

// Assign records the token in tx; its text ends with a counter, as etcd's
// ends with the raft index.
func (t *simpleTokens) Assign(ctx context.Context, tx kv.AuthWriteTxn, name string, _ uint64, prefix string) (string, error) {
	n, err := tx.NextAuthTokenIndex(ctx)
	if err != nil {
		return "", err
	}
	token := fmt.Sprintf("%s.%d", prefix, n)
	if err := tx.PutAuthToken(ctx, token, name); err != nil {
		return "", err
	}
	return token, nil
}

func (t *simpleTokens) issued(ctx context.Context, token, name string) {
	now := time.Now()
	if _, err := t.touch(ctx, token); err != nil {
		t.log.Warn("auth: clocking a new simple token failed; it is clocked at its first use", "err", err)
	}
	t.mu.Lock()
	t.tokens[token] = &tokenEntry{name: name, deadline: now.Add(t.ttl), touched: now}
	t.mu.Unlock()
}

func (t *simpleTokens) touch(ctx context.Context, token string) (bool, error) {
	if t.db == nil {
		return true, nil
	}
	return t.db.TouchAuthToken(ctx, token, t.ttl.Milliseconds())
}

// wellFormed is etcd's isValidSimpleToken: two parts, the second a number.
func wellFormed(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 2 {
		return false
	}
	_, err := strconv.ParseUint(parts[1], 10, 64)
	return err == nil
}

func (t *simpleTokens) info(ctx context.Context, token string, st *State) (*Info, bool) {
	if !wellFormed(token) {
		return nil, false
	}
	now := time.Now()
	t.mu.Lock()
	e := t.tokens[token]
	if e != nil && now.Before(e.deadline) {
		e.deadline = now.Add(t.ttl)
		stale := now.Sub(e.touched) > t.ttl/4
		if stale {
			e.touched = now
		}
		t.mu.Unlock()
		if stale {
			if _, err := t.touch(ctx, token); err != nil {
				t.log.Warn("auth: extending a simple token in the database failed", "err", err)
			}
		}
		return &Info{Username: e.name, Revision: st.Revision}, true
	}
	t.mu.Unlock()
	name, ok := t.lookup(ctx, token)
	if !ok {
		t.mu.Lock()
		delete(t.tokens, token)
		t.mu.Unlock()
		return nil, false
	}
	t.mu.Lock()
	t.tokens[token] = &tokenEntry{name: name, deadline: now.Add(t.ttl), touched: now}
	t.mu.Unlock()
	return &Info{Username: name, Revision: st.Revision}, true
}

// lookup reads a token this process does not hold valid from the
// database, and extends it there (this is a use).
func (t *simpleTokens) lookup(ctx context.Context, token string) (string, bool) {
	if t.db == nil {
		return "", false
	}
	tk, found, now, err := t.db.LookupAuthToken(ctx, token)
	if err != nil {
		t.log.Warn("auth: reading a simple token failed", "err", err)
		return "", false
	}
	if !found || (tk.ExpiresAt != 0 && tk.ExpiresAt <= now) {
		return "", false
	}
	ok, err := t.touch(ctx, token)
	if err != nil {
		t.log.Warn("auth: extending a simple token in the database failed", "err", err)
		ok = true
	}
	return tk.Name, ok
}

func (t *simpleTokens) reset() {
	t.mu.Lock()
	t.tokens = map[string]*tokenEntry{}
	t.mu.Unlock()
}

// sweep forgets the tokens past their local expiry and removes the expired
// ones from the database.
func (t *simpleTokens) sweep(ctx context.Context) {
	now := time.Now()
	t.mu.Lock()
	for tk, e := range t.tokens {
		if !now.Before(e.deadline) {
			delete(t.tokens, tk)
		}
	}
	t.mu.Unlock()
	if t.db == nil {
		return
	}
	if n, err := t.db.SweepAuthTokens(ctx, t.ttl.Milliseconds()); err != nil {
		t.log.Warn("auth: removing expired simple tokens failed", "err", err)
	} else if n > 0 {
		t.log.Debug("auth: removed expired simple tokens", "count", n)
	}
}
