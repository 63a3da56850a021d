package simulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// loopback is the http.RoundTripper of the simulator's client and of the
// fake's webhook client. A request for a URL under the public URL is served
// in-process: it is written as HTTP/1.1 over an in-memory connection to an
// http.Server running the app's handler, with the public URL's path prefix
// removed (as the reverse proxy in front of the app would). Any other
// request goes out normally.
type loopback struct {
	scheme, host string // of the public URL, host lower case without a default port
	prefix       string // the public URL's path, "" or "/app"
	ln           *pipeListener
	srv          *http.Server
	start        sync.Once
	inproc       *http.Transport
	outside      *http.Transport
}

func newLoopback(public *url.URL, app http.Handler) *loopback {
	ln := newPipeListener()
	l := &loopback{
		scheme: public.Scheme,
		host:   canonicalHost(public),
		prefix: strings.TrimRight(public.EscapedPath(), "/"),
		ln:     ln,
		srv: &http.Server{
			Handler:           app,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
		},
	}
	l.inproc = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			l.start.Do(func() { go func() { _ = l.srv.Serve(ln) }() })
			return ln.dial(ctx)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		l.outside = dt.Clone()
	} else {
		l.outside = &http.Transport{Proxy: http.ProxyFromEnvironment}
	}
	return l
}

// RoundTrip sends req in-process when it is for the app, else normally.
func (l *loopback) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := l.appPath(req.URL)
	if !ok {
		return l.outside.RoundTrip(req)
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = "http" // the in-memory hop is plain HTTP even when public_url is https
	r.URL.Path, r.URL.RawPath = path, rest
	r.Host = req.URL.Host
	return l.inproc.RoundTrip(r)
}

// appPath reports whether u is under the public URL and returns its escaped
// path without the public URL's path prefix.
func (l *loopback) appPath(u *url.URL) (string, bool) {
	if u.Scheme != l.scheme || canonicalHost(u) != l.host || u.User != nil {
		return "", false
	}
	p := u.EscapedPath()
	if l.prefix != "" {
		if p != l.prefix && !strings.HasPrefix(p, l.prefix+"/") {
			return "", false
		}
		p = strings.TrimPrefix(p, l.prefix)
	}
	if p == "" {
		p = "/"
	}
	return p, true
}

// close stops the in-memory server (waiting, until ctx ends, for requests
// in flight) and drops idle connections.
func (l *loopback) close(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	_ = l.ln.Close()
	l.inproc.CloseIdleConnections()
	l.outside.CloseIdleConnections()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// canonicalHost is u's host in lower case without the scheme's default port.
func canonicalHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	}
	return h
}

// pipeListener is a net.Listener whose connections are in-memory pipes made
// by dial.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next dial.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and dial fail from now on.
func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr names the listener.
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial hands one end of a new pipe to Accept and returns the other.
func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
	}
	_ = client.Close()
	_ = server.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, net.ErrClosed
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "simulator" }
