// Package endpoint turns a DSN and listener settings into a running Strata
// server: it picks the driver, applies the schema, opens the gRPC listener and
// stops everything gracefully.
package endpoint
