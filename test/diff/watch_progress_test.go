package diff

import (
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3rpc"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

func TestWatchProgressRequest(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, SampleData...)
		w := p.OpenWatch(t, false)
		w.Progress(t)
		w.ExpectQuiet(t, "no watches: no answer", quiet)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "created", 1)
		w.Progress(t)
		w.Expect(t, "progress with watch_id -1 at the current revision", 1)
		p.MustPut(t, "zz", "other key")
		w.Progress(t)
		w.Expect(t, "progress after a write the watch does not see", 1)
		p.MustPut(t, "a", "seen")
		w.Progress(t)
		w.Expect(t, "event then progress", 2)
		w.Progress(t)
		w.Progress(t)
		w.Expect(t, "one answer per request", 2)
		w.Cancel(t, 0)
		w.Expect(t, "cancelled", 1)
		w.Progress(t)
		w.ExpectQuiet(t, "no watches left: no answer", quiet)
	})
}

// progressEvery is the progress_notify period both servers use in
// TestWatchProgressNotify.
const progressEvery = 200 * time.Millisecond

func TestWatchProgressNotify(t *testing.T) {
	old := v3rpc.GetProgressReportInterval()
	v3rpc.SetProgressReportInterval(progressEvery)
	t.Cleanup(func() { v3rpc.SetProgressReportInterval(old) })
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			e := testserver.StartEtcd(t)
			var s *testserver.Server
			if b == "etcd" {
				s = testserver.StartEtcd(t)
			} else {
				testserver.RequireBackend(t, b)
				s = testserver.StartStrata(t, testserver.Options{Backend: b, Configure: func(c *endpoint.Config) {
					c.ProgressNotifyInterval = progressEvery
				}})
			}
			p := NewPair(t, e.Name, e.Endpoint, s.Name, s.Endpoint)
			p.Apply(t, SampleData...)
			w := p.OpenWatch(t, false)
			w.Create(t, WatchReq("a", "", 0, WithProgress))
			w.Create(t, WatchReq("b", "", 0))
			w.Expect(t, "created", 2)
			w.Expect(t, "first periodic notification, for watch 0 only", 1)
			w.Expect(t, "second periodic notification", 1)
		})
	}
}

func TestWatchFragment(t *testing.T) {
	big := func(c byte) string { return strings.Repeat(string(c), 1<<20) }
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		start := p.MustPut(t, "f/1", big('1'))
		p.MustPut(t, "f/2", big('2'))
		p.MustPut(t, "f/3", big('3'))
		w := p.OpenWatch(t, false)
		w.Create(t, WatchReq("f/", "f0", start, WithFragment))
		w.Expect(t, "replay of 3 MiB split in fragments", 1+3)
		w.Create(t, WatchReq("f/", "f0", start))
		w.Expect(t, "replay of 3 MiB without fragment", 1+1)
		w.Create(t, WatchReq("f/", "f0", 0, WithFragment, WithPrevKV))
		w.Create(t, WatchReq("f/", "f0", 0, WithPrevKV))
		w.Create(t, WatchReq("f/", "f0", 0, WithFragment))
		w.Expect(t, "created", 3)
		p.DeleteRange(t, &pb.DeleteRangeRequest{Key: []byte("f/"), RangeEnd: []byte("f0")})
		w.Expect(t, "one revision of 3 MiB of prev_kv: 3 fragments for watch 2, whole for 3, small for 0, 1, 4", 3+1+1+1+1)
		w.ExpectQuiet(t, "end", quiet)
	})
}
