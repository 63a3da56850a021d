package main

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// wrkOutput is what wrk 4.1 prints with --latency.
const wrkOutput = `Running 10s test @ http://127.0.0.1:40000/webhooks/smscx/x
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.91ms   12.38ms 236.66ms   88.38%
    Req/Sec     2.00k   345.21     2.71k    71.50%
  Latency Distribution
     50%   12.37ms
     75%   18.52ms
     90%   27.20ms
     99%  236.66ms
  39700 requests in 10.00s, 6.93MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   3970.12
Transfer/sec:    709.85KB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.reqs != 39700 || r.rps != 3970.12 || r.non2xx != 3 {
		t.Fatalf("got %+v", r)
	}
	if r.p50 != 12370*time.Microsecond || r.p99 != 236660*time.Microsecond {
		t.Fatalf("p50 %s p99 %s", r.p50, r.p99)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Fatal("output without a rate was accepted")
	}
}

func TestParseFlagsNamesTheFlag(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"-bin old", "-bin"},
		{"-bin new=/does/not/exist", "-bin new"},
		{"-db mysql", "-db"},
		{"-conns 1,x", "-conns"},
		{"-duration 1s", "-duration"},
	} {
		args := strings.Fields(tc.args)
		if !strings.HasPrefix(tc.args, "-bin") {
			args = append([]string{"-bin", "x=" + os.Args[0]}, args...)
		}
		_, err := parseFlags(args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
}

func TestSummarise(t *testing.T) {
	var lags []lagSample
	for i := 100; i >= 1; i-- {
		lags = append(lags, lagSample{at: time.Duration(i*37%101) * 100 * time.Millisecond, lag: time.Duration(i) * time.Millisecond})
	}
	l := summarise(lags, 2)
	if l.p50 != 51*time.Millisecond || l.p99 != 100*time.Millisecond || l.max != 100*time.Millisecond {
		t.Fatalf("got %+v", l)
	}
	if len(l.trace) != 100 || !slices.IsSortedFunc(l.trace, func(a, b lagSample) int { return int(a.at - b.at) }) {
		t.Fatalf("trace not every sample in the order posted: %v", l.trace)
	}
	if s := strings.SplitN(l.traceString(), "\n", 2)[0]; s != "  at   0.1s lag 71ms" {
		t.Fatalf("first trace line %q", s)
	}
	if s := l.String(); s != "51ms / 100ms / 100ms (2 unseen)" {
		t.Fatalf("String() = %q", s)
	}
}

func TestParseCPUTime(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	stat := "4242 (apptconfirm (x) serve) S 1 4242 4242 0 -1 4194560 5000 0 0 0 250 50 0 0 20 0 12 0 100 1000000 2000"
	if got := parseCPUTime(stat); got != 3*time.Second {
		t.Fatalf("parseCPUTime = %s, want 3s", got)
	}
	if got := parseCPUTime("garbage"); got != 0 {
		t.Fatalf("parseCPUTime(garbage) = %s, want 0", got)
	}
}

func TestPollWaitGrowsWithTheWaitAndIsCapped(t *testing.T) {
	for _, c := range []struct{ elapsed, want time.Duration }{
		{0, 20 * time.Millisecond},
		{time.Second, 120 * time.Millisecond},
		{5 * time.Second, 520 * time.Millisecond},
		{time.Minute, time.Second},
	} {
		if got := pollWait(c.elapsed); got != c.want {
			t.Errorf("pollWait(%v) = %v, want %v", c.elapsed, got, c.want)
		}
	}
}
