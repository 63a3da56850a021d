package smscxtest

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxBatch is the most items in one webhook POST (as SMS.CX documents).
const maxBatch = 200

// maxBackoff caps the retry wait of webhook deliveries.
const maxBackoff = 30 * time.Second

// Callback is one recorded webhook POST attempt made by the fake.
type Callback struct {
	URL   string
	Event string
	// Items is the number of entries in the envelope's data array.
	Items int
	Body  []byte
	// Attempt counts from 1.
	Attempt int
	// Status is the receiver's HTTP status; 0 if there was no answer.
	Status int
	// Err is empty when the receiver answered 200.
	Err  string
	Time time.Time
}

// Callbacks returns every recorded webhook attempt, oldest first.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls.list()
	for i := range out {
		out[i].Body = append([]byte(nil), out[i].Body...)
	}
	return out
}

// dlrItem is one delivery report waiting to be produced and posted.
type dlrItem struct {
	due       time.Time
	seq       uint64
	msg       *message
	status    string
	errorCode int
}

// dlrHeap orders items by due time, then by arrival.
type dlrHeap []*dlrItem

func (h dlrHeap) Len() int { return len(h) }
func (h dlrHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h dlrHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *dlrHeap) Push(x any) { *h = append(*h, x.(*dlrItem)) }

// Pop implements heap.Interface.
func (h *dlrHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}

// dlrQueue holds the reports for one callback URL ("" means no URL: the
// statuses still advance, nothing is posted). One goroutine serves a queue
// while it has items, which keeps the reports for a URL in order.
type dlrQueue struct {
	url     string
	h       dlrHeap
	running bool
	kick    chan struct{}
}

// enqueueLocked schedules it at due. Items produced together share a due
// time so they travel in one batch. s.mu must be held.
func (s *Server) enqueueLocked(url string, it *dlrItem, due time.Time) {
	q := s.queues[url]
	if q == nil {
		q = &dlrQueue{url: url, kick: make(chan struct{}, 1)}
		s.queues[url] = q
	}
	s.seq++
	it.seq = s.seq
	it.due = due
	heap.Push(&q.h, it)
	s.addPendingLocked(1)
	if !q.running {
		q.running = true
		s.wg.Add(1)
		go s.runQueue(q)
		return
	}
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// addPendingLocked keeps the idle channel in step with the pending count.
func (s *Server) addPendingLocked(n int) {
	was := s.pending
	s.pending += n
	switch {
	case was == 0 && s.pending > 0:
		s.idle = make(chan struct{})
	case was > 0 && s.pending <= 0:
		s.pending = 0
		close(s.idle)
	}
}

func (s *Server) runQueue(q *dlrQueue) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if s.closed {
			q.running = false
			s.mu.Unlock()
			return
		}
		if q.h.Len() == 0 {
			q.running = false
			delete(s.queues, q.url)
			s.mu.Unlock()
			return
		}
		now := time.Now()
		if wait := q.h[0].due.Sub(now); wait > 0 && s.flushing == 0 {
			s.mu.Unlock()
			if !s.sleep(wait, q.kick) {
				return
			}
			continue
		}
		var batch []*dlrItem
		for q.h.Len() > 0 && len(batch) < maxBatch && (s.flushing > 0 || !q.h[0].due.After(now)) {
			batch = append(batch, heap.Pop(&q.h).(*dlrItem))
		}
		at := s.now()
		payload := make([]wireDLR, len(batch))
		for i, it := range batch {
			s.applyLocked(it.msg, it.status, it.errorCode, at)
			payload[i] = dlrPayload(it.msg, it.status, it.errorCode, at)
		}
		s.mu.Unlock()

		if q.url != "" {
			body := envelope("dlr_update", payload)
			s.deliver(q, body, len(batch))
		}

		s.mu.Lock()
		due := time.Now().Add(s.dlrDelay)
		for _, it := range batch {
			if it.status == StatusSent && !s.closed {
				final := &dlrItem{msg: it.msg, status: StatusDelivered}
				if code := failCode(s.failDelivery, it.msg.to); code != 0 {
					final.status, final.errorCode = StatusFailed, code
				}
				s.enqueueLocked(q.url, final, due)
			}
		}
		s.addPendingLocked(-len(batch))
		s.mu.Unlock()
	}
}

// sleep waits for d, a kick or Close; it reports false on Close.
func (s *Server) sleep(d time.Duration, kick <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-kick:
	case <-s.closeCh:
		return false
	}
	return true
}

// deliver posts one batch, retrying with backoff until it is answered 200
// or the attempts are used up.
func (s *Server) deliver(q *dlrQueue, body []byte, items int) {
	for attempt := 1; attempt <= s.attempts; attempt++ {
		if s.post(s.baseCtx, q.url, "dlr_update", body, items, attempt) == nil || attempt == s.attempts {
			return
		}
		s.mu.Lock()
		backoff := min(s.backoff<<(attempt-1), maxBackoff)
		flushing := s.flushing > 0
		s.mu.Unlock()
		if flushing || backoff <= 0 {
			if s.isClosed() {
				return
			}
			continue
		}
		if !s.sleep(backoff, q.kick) {
			return
		}
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// applyLocked records a status change of m; a final status is never
// replaced by an intermediate one (a late SENT after DELIVERED).
func (s *Server) applyLocked(m *message, status string, errorCode int, at time.Time) {
	if isFinal(m.status) && !isFinal(status) {
		return
	}
	m.status, m.errorCode, m.updatedAt = status, errorCode, at
}

func isFinal(status string) bool {
	switch status {
	case StatusDelivered, StatusFailed, StatusRejected, StatusNoCoverage:
		return true
	}
	return false
}

func failCode(list []prefixCode, n string) int {
	for _, pc := range list {
		if len(n) >= len(pc.prefix) && n[:len(pc.prefix)] == pc.prefix {
			return pc.code
		}
	}
	return 0
}

type wireDLR struct {
	CampaignID string  `json:"campaignId"`
	MsgID      string  `json:"msgId"`
	StatusCode int     `json:"statusCode"`
	Status     string  `json:"status"`
	ErrorCode  *int    `json:"errorCode"`
	Datetime   string  `json:"datetime"`
	TrackData  *string `json:"trackData"`
}

func dlrPayload(m *message, status string, errorCode int, at time.Time) wireDLR {
	d := wireDLR{
		CampaignID: m.camp.id,
		MsgID:      m.id,
		StatusCode: statusCodes[status],
		Status:     status,
		Datetime:   at.UTC().Format(timeLayout),
	}
	if errorCode != 0 {
		code := errorCode
		d.ErrorCode = &code
	}
	if m.camp.trackData != "" {
		td := m.camp.trackData
		d.TrackData = &td
	}
	return d
}

// envelope renders {"event": event, "data": items}.
func envelope(event string, items any) []byte {
	body, err := json.Marshal(struct {
		Event string `json:"event"`
		Data  any    `json:"data"`
	}{event, items})
	if err != nil {
		panic(fmt.Sprintf("smscxtest: render %s: %v", event, err))
	}
	return body
}

// post makes one webhook attempt and records it. Only 200 counts as
// success, as SMS.CX documents.
func (s *Server) post(ctx context.Context, target, event string, body []byte, items, attempt int) error {
	cb := Callback{URL: target, Event: event, Items: items, Body: body, Attempt: attempt, Time: s.now()}
	err := s.doPost(ctx, target, body, &cb.Status)
	if err != nil {
		err = fmt.Errorf("smscxtest: webhook %s: %w", event, err)
		cb.Err = err.Error()
	}
	s.mu.Lock()
	s.calls.add(cb)
	s.mu.Unlock()
	return err
}

func (s *Server) doPost(ctx context.Context, target string, body []byte, status *int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "SMS.CX-Webhooks (smscxtest)")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	*status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}

// WaitIdle blocks until every pending delivery report has been posted (or
// given up on), or ctx ends. Delays and retry backoffs are honoured.
func (s *Server) WaitIdle(ctx context.Context) error {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("smscxtest: wait idle: %w", ctx.Err())
	}
}

// Flush is like WaitIdle but does not sit out the delays: pending reports
// are produced at once, with no batching delay and no retry backoff (the
// attempts still count), until the queues are empty or ctx ends.
func (s *Server) Flush(ctx context.Context) error {
	s.mu.Lock()
	s.flushing++
	for _, q := range s.queues {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.flushing--
		s.mu.Unlock()
	}()
	for {
		// A kick can race with a worker that is about to sleep; re-kick
		// until idle rather than rely on one signal.
		t := time.NewTimer(5 * time.Millisecond)
		s.mu.Lock()
		idle := s.idle
		for _, q := range s.queues {
			select {
			case q.kick <- struct{}{}:
			default:
			}
		}
		s.mu.Unlock()
		select {
		case <-idle:
			t.Stop()
			return nil
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("smscxtest: flush: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// EmitDLR posts one dlr_update for msgID with the given status (and error
// code, 0 for null) right now, in one attempt, to the message's callback URL
// (its dlrCallbackUrl, else the current default). It is meant for
// out-of-order and duplicate tests. The stored status follows, except that a
// final status (DELIVERED, FAILED) is never replaced by an intermediate one.
func (s *Server) EmitDLR(ctx context.Context, msgID, status string, errorCode int) error {
	if _, ok := statusCodes[status]; !ok {
		return fmt.Errorf("smscxtest: emit dlr: unknown status %q", status)
	}
	s.mu.Lock()
	m, ok := s.byID[msgID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("smscxtest: emit dlr: unknown message %s", msgID)
	}
	target := m.camp.dlrURL
	if target == "" {
		target = s.dlrURL
	}
	at := s.now()
	s.applyLocked(m, status, errorCode, at)
	item := dlrPayload(m, status, errorCode, at)
	s.mu.Unlock()
	if target == "" {
		return errors.New("smscxtest: emit dlr: no callback URL for this message")
	}
	return s.post(ctx, target, "dlr_update", envelope("dlr_update", []wireDLR{item}), 1, 1)
}
