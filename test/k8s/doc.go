// Package k8s runs the Kubernetes storage contract
// (k8s.io/apiserver/pkg/storage/testing) through the apiserver's etcd3
// store on a clientv3 pointed at a fresh server per test.
//
// It is a module of its own so the main module never depends on
// Kubernetes. The server is chosen by STRATA_CONFORMANCE_BACKEND: "sqlite"
// (default), "postgres", "mysql" (with STRATA_TEST_POSTGRES /
// STRATA_TEST_MYSQL) or "etcd", a real embedded etcd, the reference.
// test/conformance/run k8s BACKEND runs it.
package k8s
