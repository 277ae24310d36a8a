// Package mysql is Strata's MySQL and MariaDB backend: the sqlstore Dialect
// for InnoDB (github.com/go-sql-driver/mysql), the opening of a database
// from a mysql:// DSN (created if missing), and kv.Locker over GET_LOCK for
// a database shared by several Strata processes. Other processes' commits
// reach the watchers by polling (endpoint.Config.PollInterval).
//
// Sessions run with STRICT_ALL_TABLES added to sql_mode (a value that does
// not fit fails instead of being truncated) and time_zone +00:00, and with
// CLIENT_FOUND_ROWS: an UPDATE counts the rows it matched, as in PostgreSQL
// and SQLite, even those it left unchanged.
//
// Transactions: the write pool's sessions run at READ COMMITTED: a write
// transaction's first statement is the locking read of the revision row,
// and every later statement sees everything committed before it. The read
// pool's sessions run at REPEATABLE READ and start READ ONLY transactions;
// InnoDB takes their snapshot at the first read, which is the read of the
// revision, so the transaction is as consistent as START TRANSACTION WITH
// CONSISTENT SNAPSHOT.
//
// Keys are VARBINARY(2048) (compared as bytes): InnoDB indexes at most 3072
// bytes of a key, and the log's (name, revision) index needs 8 of them.
package mysql
