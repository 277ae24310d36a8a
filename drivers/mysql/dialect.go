package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/migrations"
	"github.com/strata-db/strata/pkg/kv"
)

// MaxKeyBytes is the longest key stored: the width of the key column.
const MaxKeyBytes = 2048

// Dialect is MySQL's and MariaDB's sqlstore.Dialect.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

func (Dialect) Name() string { return "mysql" }

func (Dialect) Types() migrations.Types {
	return migrations.Types{Key: fmt.Sprintf("VARBINARY(%d)", MaxKeyBytes), Blob: "LONGBLOB"}
}

func (Dialect) Rebind(q string) string { return q }

func (Dialect) ForUpdate() string { return " FOR UPDATE" }

func (Dialect) UpsertKV(lease bool) string {
	set := ` ON DUPLICATE KEY UPDATE value = VALUES(value), create_revision = VALUES(create_revision),
		mod_revision = VALUES(mod_revision), version = VALUES(version)`
	if lease {
		set += ", lease = VALUES(lease)"
	}
	return set
}

// NowMillis is the server's clock in milliseconds (SYSDATE: the time of the
// call; the session time zone is UTC, so no daylight-saving hour repeats).
func (Dialect) NowMillis() string {
	return "CAST(UNIX_TIMESTAMP(SYSDATE(3)) * 1000 AS SIGNED)"
}

// DeleteSuperseded is a multi-table DELETE: MySQL refuses a subquery on the
// table being deleted from.
func (Dialect) DeleteSuperseded() string {
	return `DELETE o FROM strata_log o JOIN strata_log s ON o.name = s.name AND o.revision = s.prev_revision
		WHERE s.revision > ? AND s.revision <= ? AND s.prev_revision > 0 AND o.deleted = 0`
}

// Server error numbers Classify knows.
const (
	erLockWaitTimeout   = 1205
	erLockDeadlock      = 1213
	erConCount          = 1040
	erServerShutdown    = 1053
	erOptionPreventsRO  = 1290 // --read-only
	erReadOnlyMode      = 1836
	erConnectionKilled  = 1927 // MariaDB
	erQueryInterrupted  = 1317
	erNetReadError      = 1158
	erNetReadInterrupt  = 1159
	erNetErrorOnWrite   = 1160
	erNetWriteInterrupt = 1161
)

// Classify maps InnoDB's deadlock and lock-wait errors to kv.ErrConflict,
// and a server going away, shutting down or read-only to kv.ErrUnavailable.
func (Dialect) Classify(err error) error {
	if err == nil {
		return nil
	}
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erLockWaitTimeout, erLockDeadlock:
			return fmt.Errorf("%w: %v", kv.ErrConflict, err)
		case erConCount, erServerShutdown, erOptionPreventsRO, erReadOnlyMode, erConnectionKilled,
			erQueryInterrupted, erNetReadError, erNetReadInterrupt, erNetErrorOnWrite, erNetWriteInterrupt:
			return fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
		}
		return err
	}
	if isConnError(err) {
		return fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
	}
	return err
}

func isConnError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldrv.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, sql.ErrConnDone) ||
		errors.As(err, &ne)
}

// BeginRead starts a READ ONLY transaction on a REPEATABLE READ session.
func (Dialect) BeginRead(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
}

// BeginWrite starts a transaction on a READ COMMITTED session.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, nil)
}
