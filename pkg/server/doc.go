// Package server is Strata's etcd v3 gRPC front end: the KV, Maintenance,
// Cluster, Lease, Watch and Auth services, request validation and
// authorization with etcd's errors, and response headers. It declares the
// small interfaces it consumes from the engine and the watch hub.
package server
