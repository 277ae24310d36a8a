// Package migrations holds Strata's SQL schema, once, as numbered and
// embedded migration files. The column types that differ between SQLite,
// PostgreSQL and MySQL are template fields filled from Types; nothing else
// in the repository holds a CREATE TABLE.
package migrations
