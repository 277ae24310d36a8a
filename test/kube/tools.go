//go:build tools

// Package kube pins k8s.io/kubernetes so that test/kube/run can build
// kube-apiserver from the module proxy (go build k8s.io/kubernetes/cmd/kube-apiserver).
package kube

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
