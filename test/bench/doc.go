// Package bench holds Go benchmarks that run the same workload against a
// real embedded etcd and against Strata in one run, so their numbers can be
// compared side by side:
//
//	go test -run '^$' -bench . -benchtime 5s ./test/bench/
package bench
