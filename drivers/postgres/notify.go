package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strata-db/strata/pkg/kv"
)

const (
	// channel is the LISTEN/NOTIFY channel of commits.
	channel = "strata_commit"
	// reconnectDelay is the pause between attempts to re-establish LISTEN.
	reconnectDelay = 500 * time.Millisecond
	notifyTimeout  = 5 * time.Second
)

var errBadConn = driver.ErrBadConn

// notifier sends a NOTIFY after each local commit that appended to the log,
// and turns the NOTIFYs of other processes into Notifications. Its two
// goroutines are joined by close.
type notifier struct {
	cc   *pgx.ConnConfig
	db   *sql.DB
	log  *slog.Logger
	id   string        // this process's payload; its own notifications are ignored
	out  chan struct{} // Notifications(), buffered 1
	kick chan struct{} // a local commit to announce, buffered 1

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startNotifier(cc *pgx.ConnConfig, db *sql.DB, log *slog.Logger) *notifier {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := &notifier{cc: cc, db: db, log: log, id: hex.EncodeToString(b[:]),
		out: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.wg.Add(2)
	go n.listen()
	go n.send()
	return n
}

func (n *notifier) close() {
	n.cancel()
	n.wg.Wait()
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// send issues one NOTIFY per burst of local commits.
func (n *notifier) send() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.kick:
		}
		ctx, cancel := context.WithTimeout(n.ctx, notifyTimeout)
		_, err := n.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, n.id)
		cancel()
		if err != nil && n.ctx.Err() == nil {
			n.log.Debug("postgres: notify failed; other processes will poll", "err", err)
		}
	}
}

// listen holds a dedicated connection in LISTEN, reconnecting when it dies.
// After each (re)connection it signals once, since notifications sent
// while it was away are lost.
func (n *notifier) listen() {
	defer n.wg.Done()
	for n.ctx.Err() == nil {
		if err := n.listenOnce(); err != nil && n.ctx.Err() == nil {
			n.log.Warn("postgres: LISTEN connection lost; reconnecting", "err", err)
		}
		select {
		case <-n.ctx.Done():
		case <-time.After(reconnectDelay):
		}
	}
}

func (n *notifier) listenOnce() error {
	conn, err := pgx.ConnectConfig(n.ctx, n.cc)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(n.ctx, "LISTEN "+channel); err != nil {
		return err
	}
	signal(n.out)
	for {
		msg, err := conn.WaitForNotification(n.ctx)
		if err != nil {
			return err
		}
		if msg.Payload != n.id {
			signal(n.out)
		}
	}
}

// Notifications implements kv.Notifier: it is signalled when another
// process has committed (or may have, after a reconnection).
func (b *Backend) Notifications() <-chan struct{} { return b.notify.out }

// Write runs fn in a write transaction and, if it appended to the log,
// announces the commit to the other processes.
func (b *Backend) Write(ctx context.Context, fn func(kv.WriteTxn) error) error {
	var appended bool
	err := b.Store.Write(ctx, func(tx kv.WriteTxn) error {
		w := &appendSpy{WriteTxn: tx}
		err := fn(w)
		appended = w.appended
		return err
	})
	if err == nil && appended {
		signal(b.notify.kick)
	}
	return err
}

// appendSpy notes whether a transaction appended to the log.
type appendSpy struct {
	kv.WriteTxn
	appended bool
}

func (a *appendSpy) Append(ctx context.Context, rev int64, changes []kv.Change) error {
	a.appended = a.appended || len(changes) > 0
	return a.WriteTxn.Append(ctx, rev, changes)
}
