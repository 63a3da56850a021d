package smscxtest

import (
	"bytes"
	"net/http"
	"time"
)

// Bounds of the request log, for zero Options fields. The fake may be
// reachable by anyone (simulator mode serves it on the app's listener), so
// what it keeps per request is a bounded summary, and the log as a whole is
// bounded in bytes as well as in entries.
const (
	// DefaultMaxRecordedBody is how many bytes of a request body
	// Request.Body keeps.
	DefaultMaxRecordedBody = 2 << 10
	// DefaultMaxRecordedBytes bounds the whole request log: bodies kept,
	// plus recordOverhead and the path and headers of every entry.
	DefaultMaxRecordedBytes = 8 << 20
)

// maxRecordedField caps the path and each header value kept per request.
const maxRecordedField = 256

// recordOverhead is what one entry of the request log costs besides its
// path, headers and body: the struct, its pointer and slice headers.
const recordOverhead = 256

// Request is one recorded HTTP request: a summary of it, bounded in size.
// Only a request that got past authentication has its body read, so only
// such a request has Body set.
type Request struct {
	Method string
	// Path is relative to the handler root (after any StripPrefix); at
	// most 256 bytes are kept.
	Path string
	// Header holds Content-Type, Authorization, X-Api-Key and User-Agent
	// (first value of each, at most 256 bytes) when present.
	Header http.Header
	// Body is the start of the request body: at most
	// Options.MaxRecordedBody bytes (DefaultMaxRecordedBody unless set).
	// It is empty for a request refused before its body was read (not
	// authenticated, unknown route, declared too large) and for one over
	// the size limit.
	Body []byte
	// Size is the body's length: the bytes read, or, for a request
	// refused before its body was read, its Content-Length (-1 when it
	// declared none). len(Body) < Size means Body was cut.
	Size int64
	Time time.Time
	// Status is the HTTP status answered; 0 while in flight or when the
	// request hung or its connection was dropped.
	Status int
	// Replay marks a POST /sms answered from the idempotency store.
	Replay bool
	// Dropped marks a send that was processed and whose connection was then
	// closed without an answer (DropNext).
	Dropped bool
}

// Requests returns every recorded request, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.requests.list()
	out := make([]Request, len(list))
	for i, r := range list {
		out[i] = Request{
			Method:  r.method,
			Path:    r.path,
			Body:    bytes.Clone(r.body),
			Size:    r.size,
			Time:    r.time,
			Status:  r.status,
			Replay:  r.replay,
			Dropped: r.dropped,
		}
		for j, k := range recordedHeaders {
			if r.header[j] != "" {
				if out[i].Header == nil {
					out[i].Header = make(http.Header, len(recordedHeaders))
				}
				out[i].Header.Set(k, r.header[j])
			}
		}
	}
	return out
}

// recordedHeaders are the request headers kept in Request.Header.
var recordedHeaders = [...]string{"Content-Type", "Authorization", "X-Api-Key", "User-Agent"}

// requestRecord is the compact stored form of a Request. The fields set
// after creation are guarded by Server.mu.
type requestRecord struct {
	method  string
	path    string
	header  [len(recordedHeaders)]string
	body    []byte
	size    int64
	time    time.Time
	status  int
	replay  bool
	dropped bool

	// cost is what the entry counts against the log's byte bound; kept is
	// false once the log has dropped it (or never took it).
	cost int
	kept bool
}

// record adds the summary of r to the request log, before anything about
// r is trusted: its body is not read, its path and headers are cut.
func (s *Server) record(r *http.Request) *requestRecord {
	rec := &requestRecord{
		method: capField(r.Method),
		path:   capField(r.URL.Path),
		size:   r.ContentLength,
		time:   s.now(),
	}
	rec.cost = recordOverhead + len(rec.method) + len(rec.path)
	for i, k := range recordedHeaders {
		rec.header[i] = capField(r.Header.Get(k))
		rec.cost += len(rec.header[i])
	}
	s.mu.Lock()
	s.requests.add(rec)
	s.mu.Unlock()
	return rec
}

// recordBody notes the length of a body read and keeps its start, if the
// log still holds the entry.
func (s *Server) recordBody(rec *requestRecord, body []byte, keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.size = int64(len(body))
	if !keep || !rec.kept || s.maxBody <= 0 {
		return
	}
	// Clone: io.ReadAll leaves spare capacity that would be kept per entry.
	rec.body = bytes.Clone(body[:min(len(body), s.maxBody)])
	s.requests.grow(rec, len(rec.body))
}

// capField cuts a recorded string to maxRecordedField bytes.
func capField(v string) string {
	if len(v) > maxRecordedField {
		return v[:maxRecordedField]
	}
	return v
}

// requestLog keeps the newest requests: at most limit entries (all when 0,
// none when negative) and at most maxBytes bytes in all (no bound when 0).
type requestLog struct {
	limit    int
	maxBytes int
	items    []*requestRecord // items[head:] are kept, oldest first
	head     int
	bytes    int
}

func (l *requestLog) add(rec *requestRecord) {
	if l.limit < 0 {
		return
	}
	rec.kept = true
	l.items = append(l.items, rec)
	l.bytes += rec.cost
	l.trim()
}

// grow counts n more bytes for rec, a kept entry.
func (l *requestLog) grow(rec *requestRecord, n int) {
	rec.cost += n
	l.bytes += n
	l.trim()
}

// trim drops the oldest entries while the log is over a bound, keeping the
// newest one whatever its size.
func (l *requestLog) trim() {
	for n := len(l.items) - l.head; n > 1 && (l.limit > 0 && n > l.limit || l.maxBytes > 0 && l.bytes > l.maxBytes); n-- {
		old := l.items[l.head]
		old.kept = false
		l.bytes -= old.cost
		l.items[l.head] = nil
		l.head++
	}
	// Move the kept entries to the front once the dropped ones are the
	// larger part, so the slice does not grow without end.
	if l.head > 32 && l.head*2 > len(l.items) {
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items = l.items[:n]
		l.head = 0
	}
}

func (l *requestLog) list() []*requestRecord {
	return append([]*requestRecord(nil), l.items[l.head:]...)
}
