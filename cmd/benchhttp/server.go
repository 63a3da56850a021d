package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"apptconfirm/models"
)

// secret is the webhook path secret of every server started here.
const secret = "benchhttp-webhook-secret-0123456789"

// server is one running process under test.
type server struct {
	name    string
	url     string // http://127.0.0.1:port
	cmd     *exec.Cmd
	dir     string
	token   string // REST API token (empty for the bare handler)
	targets []models.LoadTarget
	peakRSS atomic.Int64 // bytes
	stopRSS chan struct{}
	cleanup []func()
	keep    bool
}

func numCPU() int { return runtime.NumCPU() }

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// startBare starts the bare gin handler as a child process of this binary.
func startBare(ctx context.Context) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{name: "bare gin", url: "http://" + addr, stopRSS: make(chan struct{})}
	if err := s.startChild(ctx, "-bare", addr); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startChild starts this binary again, with args, as the yardstick s, and
// waits until it answers on the webhook route.
func (s *server) startChild(ctx context.Context, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	s.cmd = exec.CommandContext(ctx, self, args...)
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return err
	}
	if err := s.waitUp(ctx, "/webhooks/smscx/"+secret, http.MethodPost); err != nil {
		return err
	}
	go s.sampleRSS()
	return nil
}

// startServe seeds a fresh database (SQLite file or PostgreSQL schema),
// creates an API token, prepares n load targets and starts
// `apptconfirm serve` from bin on it.
func startServe(ctx context.Context, bin binary, db, pgDSN string, seedCount, targets int, keep bool) (*server, error) {
	dir, err := os.MkdirTemp("", "benchhttp-")
	if err != nil {
		return nil, err
	}
	s := &server{name: bin.name, dir: dir, stopRSS: make(chan struct{}), keep: keep}
	s.cleanup = append(s.cleanup, func() {
		if !keep {
			_ = os.RemoveAll(dir)
		}
	})
	addr, err := freeAddr()
	if err != nil {
		s.stop()
		return nil, err
	}
	s.url = "http://" + addr
	opts := models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(dir, "bench.db")}
	if db == "postgres" {
		dsn, drop, err := models.CreatePostgresSchema(ctx, pgDSN, "bench_")
		if err != nil {
			s.stop()
			return nil, err
		}
		s.cleanup = append(s.cleanup, drop)
		opts = models.Options{Driver: models.DriverPostgres, DSN: dsn}
	}
	env := append(os.Environ(),
		"APPTCONFIRM_DATABASE_DRIVER="+opts.Driver, "APPTCONFIRM_DATABASE_DSN="+opts.DSN,
		"APPTCONFIRM_SERVER_ADDR="+addr, "APPTCONFIRM_SERVER_PUBLIC_URL="+s.url,
		"APPTCONFIRM_SMSCX_MODE=simulate", "APPTCONFIRM_SMSCX_WEBHOOK_SECRET="+secret,
		"APPTCONFIRM_ADMIN_EMAIL=bench@example.com", "APPTCONFIRM_ADMIN_PASSWORD=bench-password-123",
		"APPTCONFIRM_LOG_LEVEL=error")
	runCmd := func(args ...string) (string, error) {
		c := exec.CommandContext(ctx, bin.path, args...)
		c.Dir, c.Env = dir, env
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		if err := c.Run(); err != nil {
			return "", fmt.Errorf("%s %s: %w: %s", bin.name, strings.Join(args, " "), err, errb.String())
		}
		return out.String(), nil
	}
	if _, err := runCmd("seed", "--count", strconv.Itoa(seedCount), "--seed", "20"); err != nil {
		s.stop()
		return nil, err
	}
	out, err := runCmd("token", "create", "--name", "benchhttp", "--scope", "read")
	if err != nil {
		s.stop()
		return nil, err
	}
	s.token = lastLine(out)
	store, err := models.Open(opts)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.targets, err = store.PrepareLoadTargets(ctx, targets)
	_ = store.Close()
	if err != nil {
		s.stop()
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		s.stop()
		return nil, err
	}
	s.cmd = exec.CommandContext(ctx, bin.path, "serve")
	s.cmd.Dir, s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = dir, env, logf, logf
	s.cmd.Cancel = func() error { return s.cmd.Process.Signal(syscall.SIGTERM) }
	s.cmd.WaitDelay = 30 * time.Second
	if err := s.cmd.Start(); err != nil {
		s.stop()
		return nil, err
	}
	if err := s.waitUp(ctx, "/healthz", http.MethodGet); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s did not start (log in %s): %w", bin.name, dir, err)
	}
	go s.sampleRSS()
	return s, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// waitUp polls path until the server answers.
func (s *server) waitUp(ctx context.Context, path, method string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, method, s.url+path, strings.NewReader(`{"event":"ping","data":[]}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not answering on %s", s.url, path)
}

// sampleRSS records the process's peak resident memory, read from /proc
// every 200 ms (Linux only; elsewhere it stays 0).
func (s *server) sampleRSS() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		if rss := readRSS(s.cmd.Process.Pid); rss > s.peakRSS.Load() {
			s.peakRSS.Store(rss)
		}
		select {
		case <-s.stopRSS:
			return
		case <-t.C:
		}
	}
}

func readRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// stop ends the process (SIGTERM, then a kill after 30 s) and removes
// what it used.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		close(s.stopRSS)
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

// cpuTime is the CPU time (user and system) the process has used so far,
// read from /proc/<pid>/stat; 0 when it cannot be read.
func (s *server) cpuTime() time.Duration {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	return parseCPUTime(string(b))
}

// parseCPUTime reads utime and stime (fields 14 and 15, in clock ticks of
// 1/100 s) from a /proc/<pid>/stat line. The command name, field 2, is in
// parentheses and may hold spaces, so fields are counted after its ')'.
func parseCPUTime(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// loadAvg is the machine's 1-minute load average, as uptime shows it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return f[0] + " " + f[1] + " " + f[2]
}
