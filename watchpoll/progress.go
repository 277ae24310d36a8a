package watchpoll

import (
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// progressTicks is how many times per ProgressNotifyInterval the progress
// loop looks for streams that are due.
const progressTicks = 10

// progressLoop sends the periodic progress notifications of watches
// created with progress_notify.
func (h *Hub) progressLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.ProgressNotifyInterval / progressTicks)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			h.progressTick(now)
		}
	}
}

// progressTick notifies, on each stream that is due, every progress watch
// that is synced, past its start revision and got no events since the last
// tick: a response with its watch ID, no events and the revision through
// which it has everything. A full queue skips the notification, as etcd's
// does.
func (h *Hub) progressTick(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.streams {
		if now.Before(s.nextTick) {
			continue
		}
		s.nextTick = s.nextTick.Add(h.cfg.ProgressNotifyInterval)
		if s.nextTick.Before(now) {
			s.nextTick = now.Add(h.cfg.ProgressNotifyInterval)
		}
		s.mu.Lock()
		for _, w := range s.ids {
			if !w.progress || w.state == stateDone {
				continue
			}
			if w.quiet && w.state == stateSynced && h.last >= w.startRev {
				s.q.tryPush(item{resp: &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: h.last}, WatchId: w.id}, size: ctrlSize})
			}
			w.quiet = true
		}
		s.mu.Unlock()
	}
}

// answerProgressLocked answers the progress requests that can be answered
// now. Called with h.mu held after anything that may make them ready.
func (h *Hub) answerProgressLocked() {
	for s := range h.waiting {
		if !s.progressReadyLocked() {
			continue
		}
		for s.progressWant > 0 {
			resp := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: h.last}, WatchId: -1}
			if !s.q.tryPush(item{resp: resp, size: ctrlSize}) {
				break
			}
			s.progressWant--
		}
		if s.progressWant == 0 {
			s.progressAt = 0
			delete(h.waiting, s)
		}
	}
}

// progressReadyLocked reports whether every event through h.last has been
// queued for every live watch of s, and h.last reaches the revision the
// requests asked for. Like etcd, it waits for a watch to reach its start
// revision.
func (s *Stream) progressReadyLocked() bool {
	h := s.h
	if h.last < s.progressAt {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.ids {
		switch {
		case w.state == stateDone:
		case w.state != stateSynced, h.last < w.startRev:
			return false
		}
	}
	return true
}
