package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointInterval is how often the checkpointer copies the WAL into the
// database file.
const checkpointInterval = 100 * time.Millisecond

var (
	// restartFrames is the WAL length, in frames (64 MiB of 4 KiB pages),
	// above which the writer finishes the checkpoint itself so that the WAL
	// can restart (see checkpointer.beforeWrite). Restarting at 16 MiB
	// instead paused the writer five times as often, and the Put p99 under
	// load grew from 20 to 27 ms.
	restartFrames int64 = 16384
	// restartTail is how many new frames a background checkpoint may find
	// for the writer to be told to restart: its checkpoint then copies
	// about that many, a pause of a millisecond or two.
	restartTail int64 = 128
)

// checkpointer runs SQLite's WAL checkpoints on a reader connection in its
// own goroutine. SQLite's automatic checkpoint would run them inside the
// commit of the single writer, which then waits for the copy and the fsync
// of the database file (about a sixth of the writer's time under a random
// Put load, measured with pprof). A PASSIVE checkpoint never blocks the
// writer nor readers.
//
// The WAL restarts from its start only when a write transaction begins
// with every frame already copied. Under a steady write load that never
// happens by itself: the writer begins its next transaction right after its
// last commit, before any background checkpoint could copy it. The WAL then
// grows without bound (1.5 GB after 15 s of Puts), and appending to a
// growing file costs more than writing over the start of one (the server's
// CPU per Put fell by a tenth once the WAL restarted). So once the WAL is
// longer than restartFrames, the background checkpoints run back to back
// until one finds little new; then the writer, between two transactions,
// runs one more PASSIVE checkpoint itself, copying that little, and its
// next transaction restarts the WAL. A reader that began before that
// checkpoint and still reads prevents the restart; the next background
// checkpoint then finds the WAL still long and it all happens again.
type checkpointer struct {
	db  *sql.DB // a reader pool
	wdb *sql.DB // the writer's pool, used by beforeWrite only
	log *slog.Logger
	// long is set while the WAL is longer than restartFrames.
	long atomic.Bool
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func startCheckpointer(db, wdb *sql.DB, log *slog.Logger) *checkpointer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &checkpointer{db: db, wdb: wdb, log: log, stop: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	var last int64 // the WAL's length at the previous checkpoint
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*checkpointInterval)
			frames, err := checkpoint(ctx, c.db)
			cancel()
			if err != nil {
				c.log.Warn("sqlite checkpoint failed; will retry", "err", err)
				break
			}
			grown := frames - last
			last = frames
			if frames <= restartFrames {
				break
			}
			// The WAL is long. Checkpoint again at once until a pass finds
			// little new, then let the writer copy that little and restart
			// the WAL: its pause is short.
			if grown <= restartTail {
				c.long.Store(true)
				break
			}
			select {
			case <-c.stop:
				return
			default:
			}
		}
	}
}

// checkpoint runs a PASSIVE checkpoint on db and returns the length of the
// WAL in frames.
func checkpoint(ctx context.Context, db *sql.DB) (frames int64, err error) {
	var busy, copied int64
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}

// beforeWrite runs on the writer's pool before each write transaction (see
// sqlstore.Config.BeforeWrite): once the WAL is long, it checkpoints there,
// and the transaction that follows restarts the WAL. It runs at most once
// per background checkpoint, which sets long again if the WAL did not
// restart (a reader still on old frames). A failure is logged, not
// returned: the write does not need the checkpoint.
func (c *checkpointer) beforeWrite(ctx context.Context) error {
	if !c.long.Swap(false) {
		return nil
	}
	if _, err := checkpoint(ctx, c.wdb); err != nil {
		c.log.Warn("sqlite checkpoint before write failed", "err", err)
	}
	return nil
}

// close stops the checkpointer and waits for it; the file is checkpointed
// once more when the last connection closes.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	c.wg.Wait()
	return nil
}
