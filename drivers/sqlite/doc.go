// Package sqlite is Strata's embedded default backend: the sqlstore Dialect
// for SQLite (modernc.org/sqlite, pure Go) and the opening of one database
// file in WAL mode with synchronous=FULL, one writer connection and a pool of
// snapshot readers.
package sqlite
