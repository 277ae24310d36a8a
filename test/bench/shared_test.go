package bench

import (
	"fmt"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/test/testserver"
)

// sharedInstances are the server counts measured on one shared database.
var sharedInstances = []int{1, 3}

// sharedTargets runs fn on etcd and on Strata over PostgreSQL and MySQL,
// with one server and with three servers sharing one database (the
// clients spread over them). The backends skip unless enabled.
func sharedTargets(b *testing.B, fn func(b *testing.B, cs []*clientv3.Client)) {
	b.Run("etcd", func(b *testing.B) {
		fn(b, conns(b, testserver.StartEtcd(b), connections))
	})
	for _, be := range []string{"postgres", "mysql"} {
		for _, n := range sharedInstances {
			b.Run(fmt.Sprintf("strata-%s-x%d", be, n), func(b *testing.B) {
				testserver.RequireBackend(b, be)
				dsn := testserver.FreshDSN(b, be)
				var cs []*clientv3.Client
				for i := range n {
					s := testserver.StartStrata(b, testserver.Options{Backend: be, DSN: dsn})
					cs = append(cs, conns(b, s, (connections+n-1-i)/n)...)
				}
				fn(b, cs)
			})
		}
	}
}

// BenchmarkSharedPut: BenchmarkPut's load on PostgreSQL and MySQL, one and
// three servers, next to etcd.
func BenchmarkSharedPut(b *testing.B) {
	sharedTargets(b, func(b *testing.B, cs []*clientv3.Client) { runClients(b, cs, putRandom) })
}

// BenchmarkSharedKubernetesUpdate: BenchmarkKubernetesUpdate's load on
// PostgreSQL and MySQL, one and three servers, next to etcd.
func BenchmarkSharedKubernetesUpdate(b *testing.B) {
	sharedTargets(b, runKubernetesUpdate)
}
