package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// rawPoster posts JSON bodies to one URL over one kept-alive connection,
// writing the request by hand. The sustained sender shares the machine with
// the server it measures; net/http's client spends about twice the CPU per
// request on goroutine hand-offs and header maps, which the server then
// does not get.
type rawPoster struct {
	host, path string
	timeout    time.Duration
	conn       net.Conn
	br         *bufio.Reader
	bw         *bufio.Writer
}

func newRawPoster(rawURL string, timeout time.Duration) (*rawPoster, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("raw poster: %q: only http:// is supported", rawURL)
	}
	return &rawPoster{host: u.Host, path: u.RequestURI(), timeout: timeout}, nil
}

// post sends body and returns the answer's status code, reading the answer
// whole so that the connection can be used again. On any error the
// connection is dropped and the next post dials a new one.
func (p *rawPoster) post(body string) (int, error) {
	if p.conn == nil {
		c, err := net.DialTimeout("tcp", p.host, p.timeout)
		if err != nil {
			return 0, err
		}
		p.conn, p.br, p.bw = c, bufio.NewReader(c), bufio.NewWriter(c)
	}
	status, err := p.roundTrip(body)
	if err != nil {
		p.close()
	}
	return status, err
}

func (p *rawPoster) roundTrip(body string) (int, error) {
	if err := p.conn.SetDeadline(time.Now().Add(p.timeout)); err != nil {
		return 0, err
	}
	_, _ = p.bw.WriteString("POST ")
	_, _ = p.bw.WriteString(p.path)
	_, _ = p.bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = p.bw.WriteString(p.host)
	_, _ = p.bw.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	_, _ = p.bw.WriteString(strconv.Itoa(len(body)))
	_, _ = p.bw.WriteString("\r\n\r\n")
	_, _ = p.bw.WriteString(body)
	if err := p.bw.Flush(); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return 0, err
	}
	if resp.Close {
		p.close()
	}
	return resp.StatusCode, nil
}

func (p *rawPoster) close() {
	if p.conn != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
}
