package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a delivery refused because the endpoint's host
// resolved to an address apptconfirm must not call.
var ErrForbiddenAddress = errors.New("forbidden address")

// Ranges that are never delivered to (unless private addresses are
// allowed), besides what netip classifies as loopback, private, link-local
// (which holds the cloud metadata address 169.254.169.254), multicast and
// unspecified.
var forbiddenPrefixes = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "reserved"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
}

// forbidden says why addr may not be called, or "" when it may.
func forbidden(addr netip.Addr) string {
	addr = addr.Unmap()
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local or metadata"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, p := range forbiddenPrefixes {
		if p.prefix.Contains(addr) {
			return p.why
		}
	}
	return ""
}

// control is the net.Dialer hook that checks the address about to be
// dialled, after name resolution: a host name that resolves (or is
// rebound) to a forbidden address is refused there.
func control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if why := forbidden(addr); why != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrForbiddenAddress, addr.Unmap(), why)
	}
	return nil
}

// Timeout bounds one delivery attempt: connecting, sending and reading the
// answer.
const Timeout = 10 * time.Second

// MaxResponseBytes is how much of an answer's body is read.
const MaxResponseBytes = 64 << 10

// NewClient returns the HTTP client deliveries use: no proxy, no
// redirects followed (a 3xx is a failed attempt), timeout for the whole
// attempt, and, unless allowPrivate, every dialled address checked.
func NewClient(allowPrivate bool, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = Timeout
	}
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = control
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    32,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
