//go:build tools

// Package kube pins k8s.io/kubernetes so that test/kube/run can build
// kube-apiserver from the module proxy (go build k8s.io/kubernetes/cmd/kube-apiserver)
// and test/kube/storagepath can build the test binary of
// k8s.io/kubernetes/test/integration/etcd (go test -c).
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/test/integration/etcd"
)
