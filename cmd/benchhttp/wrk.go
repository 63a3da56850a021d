package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dlrScript makes wrk post single-event dlr_update bodies whose msgId is a
// fresh random UUID each time, as SMS.CX's are (they match no message, so
// the endpoint stores them and the processor flags them "unmatched").
const dlrScript = `
local hex = "0123456789abcdef"
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1000000))
end
local function uuid()
  local t = {}
  for i = 1, 32 do
    local r = math.random(1, 16)
    t[i] = hex:sub(r, r)
  end
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-4" .. s:sub(14, 16) .. "-a" .. s:sub(18, 20) .. "-" .. s:sub(21, 32)
end
local headers = {["Content-Type"] = "application/json"}
request = function()
  local body = '{"event":"dlr_update","data":[{"campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b","msgId":"' ..
    uuid() .. '","statusCode":3,"status":"DELIVERED","errorCode":null,"datetime":"2026-11-27 10:00:00","trackData":null}]}'
  return wrk.format("POST", nil, headers, body)
end
`

// lookWrk finds wrk on PATH (make bench-http installs it when missing).
func lookWrk() (string, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", errors.New("wrk is not installed: run `make bench-http` (it installs Debian's wrk) or apt-get install wrk")
	}
	return p, nil
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	reqs     int64
	rps      float64
	p50, p99 time.Duration
	non2xx   int64
	errors   string
	cpu      time.Duration // the server's CPU time during the run
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reReqs    = regexp.MustCompile(`(\d+) requests in`)
	rePct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors:.*`)
)

// runWrkOnce drives url with wrk for d on conns connections.
func runWrkOnce(ctx context.Context, script, url string, conns int, d time.Duration) (wrkResult, error) {
	threads := min(conns, 2)
	c := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--latency", "--timeout", "10s", "-s", script, url)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s", err, out.String())
	}
	return parseWrk(out.String())
}

func parseWrk(s string) (wrkResult, error) {
	var r wrkResult
	m := reRPS.FindStringSubmatch(s)
	if m == nil {
		return r, fmt.Errorf("wrk output without Requests/sec:\n%s", s)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := reReqs.FindStringSubmatch(s); m != nil {
		r.reqs, _ = strconv.ParseInt(m[1], 10, 64)
	}
	for _, m := range rePct.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := reNon2xx.FindStringSubmatch(s); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	r.errors = reSockErr.FindString(s)
	return r, nil
}

// runWrk runs, for every database and connection count, the bare handler
// and then each build, one after the other, and prints one line each.
func runWrk(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "benchhttp-wrk-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	script := filepath.Join(dir, "dlr.lua")
	if err := os.WriteFile(script, []byte(dlrScript), 0o600); err != nil {
		return err
	}
	fmt.Printf("wrk runs of %s each; single-event dlr_update bodies with random msgIds; %d lag samples per server run\n",
		o.duration, o.samples)
	fmt.Printf("ratio = requests/s of the build / requests/s of the bare gin handler just before it\n")
	if o.insert {
		fmt.Printf("plain insert = gin storing each request with one insert, committed on its own, into a table with a unique key (no decoding, no applying)\n")
	}
	fmt.Printf("lag = from the 200 of a delivery report about a real message to GET /api/v1/appointments/{id} showing it delivered\n")
	fmt.Printf("cpu/req = the server process's CPU time (user + system) during the wrk run / requests answered\n\n")
	fmt.Printf("%-9s %5s %-10s %10s %7s %9s %9s %8s %22s %8s %8s  %s\n",
		"database", "conns", "build", "req/s", "ratio", "p50", "p99", "non-200", "lag p50 / p99 / max", "peak RSS", "cpu/req", "load (1/5/15 min)")
	for _, db := range o.dbs {
		for _, conns := range o.conns {
			bare, err := startBare(ctx)
			if err != nil {
				return err
			}
			br, load, err := wrkYardstick(ctx, bare, script, conns, o.duration)
			if err != nil {
				return err
			}
			printLine(db, conns, bare.name, br, 0, lagStats{}, bare.peakRSS.Load(), load)
			if o.insert {
				ins, err := startInsert(ctx, db, o.pgDSN)
				if err != nil {
					return err
				}
				r, load, err := wrkYardstick(ctx, ins, script, conns, o.duration)
				if err != nil {
					return err
				}
				printLine(db, conns, ins.name, r, r.rps/br.rps, lagStats{}, ins.peakRSS.Load(), load)
			}
			for _, bin := range o.bins {
				if err := ctx.Err(); err != nil {
					return err
				}
				s, err := startServe(ctx, bin, db, o.pgDSN, o.seedCount, o.samples, o.keep)
				if err != nil {
					return err
				}
				load := loadAvg()
				lagCtx, stopLag := context.WithCancel(ctx)
				lagDone := make(chan lagStats, 1)
				go func() { lagDone <- measureLag(lagCtx, s, o.duration) }()
				cpu0 := s.cpuTime()
				r, err := runWrkOnce(ctx, script, s.url+"/webhooks/smscx/"+secret, conns, o.duration)
				r.cpu = s.cpuTime() - cpu0
				// Let the samples sent near the end be applied.
				lag := waitLag(lagDone, stopLag, 30*time.Second)
				s.stop()
				if err != nil {
					return err
				}
				printLine(db, conns, bin.name, r, r.rps/br.rps, lag, s.peakRSS.Load(), load)
			}
		}
	}
	return nil
}

// wrkYardstick drives the yardstick s with wrk for d, then stops it; it
// returns wrk's result with the process's CPU time, and the load average
// when the run began.
func wrkYardstick(ctx context.Context, s *server, script string, conns int, d time.Duration) (wrkResult, string, error) {
	load := loadAvg()
	cpu0 := s.cpuTime()
	r, err := runWrkOnce(ctx, script, s.url+"/webhooks/smscx/"+secret, conns, d)
	r.cpu = s.cpuTime() - cpu0
	s.stop()
	return r, load, err
}

func waitLag(done chan lagStats, stop context.CancelFunc, max time.Duration) lagStats {
	select {
	case l := <-done:
		stop()
		return l
	case <-time.After(max):
		stop()
		return <-done
	}
}

func printLine(db string, conns int, name string, r wrkResult, ratio float64, lag lagStats, rss int64, load string) {
	ratioS, lagS := "", ""
	if ratio > 0 {
		ratioS = fmt.Sprintf("%.0f%%", ratio*100)
		lagS = lag.String()
	}
	non := strconv.FormatInt(r.non2xx, 10)
	if r.errors != "" {
		non += " (" + strings.TrimSpace(r.errors) + ")"
	}
	cpu := "?"
	if r.reqs > 0 && r.cpu > 0 {
		cpu = us(r.cpu / time.Duration(r.reqs))
	}
	fmt.Printf("%-9s %5d %-10s %10.0f %7s %9s %9s %8s %22s %6.0fMB %8s  %s\n",
		db, conns, name, r.rps, ratioS, ms(r.p50), ms(r.p99), non, lagS, float64(rss)/(1<<20), cpu, load)
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// us formats d in whole microseconds.
func us(d time.Duration) string {
	return strconv.FormatInt(d.Microseconds(), 10) + "µs"
}
