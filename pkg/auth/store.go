package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/strata-db/strata/pkg/kv"
)

// Defaults of Config.
const (
	// DefaultPollInterval is how often a process sharing its database
	// looks for auth changes made by the others.
	DefaultPollInterval = 100 * time.Millisecond
	// maxSweepInterval bounds how long expired simple tokens stay in the
	// database.
	maxSweepInterval = time.Minute
	minSweepInterval = time.Second
	refreshTimeout   = 5 * time.Second
)

// Config is one process's auth settings.
type Config struct {
	Backend kv.Backend
	// Token is etcd's --auth-token: "simple" (the default), or
	// "jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256,ttl=5m".
	Token string
	// TokenTTL is etcd's --auth-token-ttl, the life of an unused simple
	// token (default 300 s).
	TokenTTL time.Duration
	// BcryptCost is etcd's --bcrypt-cost (default bcrypt.DefaultCost).
	BcryptCost int
	// PollInterval is how often, when the backend is shared by several
	// processes (it is a kv.Locker), the auth state is read again for the
	// others' changes. Every change takes effect at the other processes
	// within it; writes check the database at once while auth is enabled.
	PollInterval time.Duration
	Logger       *slog.Logger
	// Registerer receives etcd_debugging_auth_revision; nil registers none.
	Registerer prometheus.Registerer
}

// Validate reports the first setting that cannot work, and fills defaults.
func (c *Config) validate() error {
	if c.Backend == nil {
		return errors.New("auth: a backend is required")
	}
	if c.Token == "" {
		c.Token = TokenSimple
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = bcrypt.DefaultCost
	}
	if c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		return fmt.Errorf("auth: bcrypt cost %d is outside [%d, %d]", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Store is one process's auth: the current State, the token provider, and
// the bookkeeping that keeps the State equal to the database's.
//
// The State changes only by auth operations, applied by the engine's
// writer. The writer tells the Store (Changed) when it applies one; the
// server reads the store again after the operation commits (Refresh), so
// the next request sees the change. A process sharing its database polls
// the auth revision and flag every PollInterval for the others' changes.
type Store struct {
	cfg    Config
	log    *slog.Logger
	tokens provider
	shared bool

	// mu serialises loads, so that a State is replaced only by a newer one.
	mu    sync.Mutex
	state atomic.Pointer[State]
	// pending is set when the writer applied a change the cached State may
	// not hold yet; the writer clears it after checking the database.
	pending atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// New loads the auth store and starts the poller and the token sweeper.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	_, s.shared = cfg.Backend.(kv.Locker)
	kind, opts, err := parseTokenOpts(cfg.Token)
	if err != nil {
		return nil, err
	}
	switch kind {
	case TokenSimple:
		db, _ := cfg.Backend.(kv.AuthTokens)
		s.tokens = newSimpleTokens(cfg.TokenTTL, db, s.log)
	case TokenJWT:
		if s.tokens, err = newJWTTokens(opts, s.log); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: unknown token type %q", ErrInvalidAuthOpts, kind)
	}
	if _, err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "etcd_debugging", Subsystem: "auth", Name: "revision",
			Help: "The current revision of auth store."}, func() float64 { return float64(s.State().Revision) })
		if err := cfg.Registerer.Register(g); err != nil {
			return nil, fmt.Errorf("auth: register metrics: %w", err)
		}
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// Close stops the poller and the sweeper.
func (s *Store) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	return nil
}

// run polls for other processes' changes (shared backends only) and
// sweeps expired simple tokens.
func (s *Store) run() {
	defer s.wg.Done()
	sweepEvery := min(max(s.cfg.TokenTTL/4, minSweepInterval), maxSweepInterval)
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	var poll <-chan time.Time
	if s.shared {
		t := time.NewTicker(s.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-poll:
			ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
			if _, err := s.Refresh(ctx); err != nil {
				s.log.Warn("auth: reading the auth state failed", "err", err)
			}
			cancel()
		case <-sweep.C:
			if s.State().Enabled {
				ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
				s.tokens.sweep(ctx)
				cancel()
			}
		}
	}
}

// State is the current auth state of this process.
func (s *Store) State() *State { return s.state.Load() }

// Refresh reads the auth state from the database (all of it only when its
// revision or flag changed) and returns the newest State.
func (s *Store) Refresh(ctx context.Context) (*State, error) {
	err := s.cfg.Backend.Read(ctx, func(tx kv.ReadTxn) error {
		m, err := tx.AuthMeta(ctx)
		if err != nil {
			return err
		}
		if cur := s.State(); cur != nil && cur.Meta() == m {
			return nil
		}
		st, err := Load(ctx, tx)
		if err != nil {
			return err
		}
		s.offer(st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("auth: read state: %w", err)
	}
	return s.State(), nil
}

// offer installs st if it is newer than the current State.
func (s *Store) offer(st *State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.State()
	if !st.newer(cur) {
		return
	}
	s.state.Store(st)
	if cur != nil {
		s.tokens.reset()
		s.log.Debug("auth: state changed", "enabled", st.Enabled, "revision", st.Revision)
	}
}

// ForWrite is the writer's view of the State: the cached one, and whether
// the writer must compare it with the database first (a local change may
// not be in it, or auth is on and other processes share the database).
func (s *Store) ForWrite() (st *State, verify bool) {
	st = s.State()
	return st, s.pending.Load() || (s.shared && st.Enabled)
}

// Verified hands the writer's State, read in a write transaction before
// any change of its own, to the store: the database holds nothing newer.
func (s *Store) Verified(st *State) {
	s.offer(st)
	s.pending.Store(false)
}

// Changed notes that the writer applied an auth change.
func (s *Store) Changed() { s.pending.Store(true) }

// Assign issues a token inside the apply path (the Assigner of Apply).
func (s *Store) Assign(ctx context.Context, tx kv.AuthWriteTxn, name string, revision uint64, prefix string) (string, error) {
	return s.tokens.Assign(ctx, tx, name, revision, prefix)
}

// TokenPrefix is the random part of the next simple token ("" for JWT).
func (s *Store) TokenPrefix() (string, error) { return s.tokens.genPrefix() }

// Issued is told of a token whose Authenticate committed.
func (s *Store) Issued(ctx context.Context, token, name string) { s.tokens.issued(ctx, token, name) }

// TokenInfo resolves a token against st; it fails with ErrInvalidAuthToken.
func (s *Store) TokenInfo(ctx context.Context, token string, st *State) (*Info, error) {
	ai, ok := s.tokens.info(ctx, token, st)
	if !ok {
		return nil, ErrInvalidAuthToken
	}
	return ai, nil
}

// HashPassword is the bcrypt hash etcd proposes in place of a password,
// base64-encoded as in its HashedPassword fields.
func (s *Store) HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h), nil
}

// CheckPassword is etcd's: the user must exist and have a password, which
// must match. It returns the auth revision it checked at.
func (st *State) CheckPassword(name, password string) (uint64, error) {
	if !st.Enabled {
		return 0, ErrAuthNotEnabled
	}
	u := st.User(name)
	if u == nil {
		return 0, ErrAuthFailed
	}
	if u.Options != nil && u.Options.NoPassword {
		return 0, ErrNoPasswordUser
	}
	if bcrypt.CompareHashAndPassword(u.Password, []byte(password)) != nil {
		return 0, ErrAuthFailed
	}
	return st.Revision, nil
}
