package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lagStats summarises the apply lags of one run.
type lagStats struct {
	n, unseen     int
	p50, p99, max time.Duration
	// trace is every sample seen, in the order posted: when in the run
	// its report was posted, and its lag.
	trace []lagSample
}

// lagSample is one measured lag and when in the run its report was posted.
type lagSample struct{ at, lag time.Duration }

// traceString is l's samples on one line each, for -lag-trace.
func (l lagStats) traceString() string {
	var b strings.Builder
	for _, x := range l.trace {
		fmt.Fprintf(&b, "  at %5.1fs lag %s\n", x.at.Seconds(), short(x.lag))
	}
	return b.String()
}

func (l lagStats) String() string {
	if l.n == 0 && l.unseen == 0 {
		return "-"
	}
	s := fmt.Sprintf("%s / %s / %s", short(l.p50), short(l.p99), short(l.max))
	if l.unseen > 0 {
		s += fmt.Sprintf(" (%d unseen)", l.unseen)
	}
	return s
}

func short(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + "s"
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

func summarise(trace []lagSample, unseen int) lagStats {
	slices.SortFunc(trace, func(a, b lagSample) int { return cmp.Compare(a.at, b.at) })
	lags := make([]time.Duration, len(trace))
	for i, x := range trace {
		lags[i] = x.lag
	}
	slices.Sort(lags)
	l := lagStats{n: len(lags), unseen: unseen, trace: trace}
	if len(lags) > 0 {
		l.p50 = lags[len(lags)*50/100]
		l.p99 = lags[min(len(lags)-1, len(lags)*99/100)]
		l.max = lags[len(lags)-1]
	}
	return l
}

// dlrBody is a one-item dlr_update about target message providerID/uuid.
func dlrBody(providerID, uuid, status string) string {
	return `{"event":"dlr_update","data":[{"campaignId":"4baf0298-0c21-4df1-a60a-6e3476e95e0b","msgId":"` + providerID +
		`","statusCode":3,"status":"` + status + `","errorCode":null,"datetime":"` +
		time.Now().UTC().Format("2006-01-02 15:04:05") + `","trackData":"` + uuid + `"}]}`
}

// measureLag posts, spread over d, a DELIVERED report for each of the
// server's first lag targets, and polls the REST API from each 200 until
// the message shows as delivered. It stops waiting when ctx ends; reports
// not seen applied by then are counted as unseen.
func measureLag(ctx context.Context, s *server, d time.Duration) lagStats {
	targets := s.targets
	if len(targets) == 0 {
		return lagStats{}
	}
	client := &http.Client{Timeout: 20 * time.Second}
	// Samples start after a second of load and end a second before it does.
	span := d - 2*time.Second
	step := span / time.Duration(len(targets))
	var mu sync.Mutex
	var lags []lagSample
	unseen := 0
	start := time.Now()
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for i := range targets {
		select {
		case <-ctx.Done():
			mu.Lock()
			unseen += len(targets) - i
			mu.Unlock()
			wg.Wait()
			return summarise(lags, unseen)
		case <-timer.C:
		}
		timer.Reset(step)
		t := targets[i]
		at := time.Since(start)
		wg.Add(1)
		go func() {
			defer wg.Done()
			lag, ok := oneLag(ctx, client, s, t.ProviderID, t.UUID, t.AppointmentID, t.MessageID)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				lags = append(lags, lagSample{at, lag})
			} else {
				unseen++
			}
		}()
	}
	wg.Wait()
	return summarise(lags, unseen)
}

// oneLag posts one delivery report and polls until it is visible.
func oneLag(ctx context.Context, client *http.Client, s *server, providerID, uuid string, apptID, msgID uint) (time.Duration, bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/webhooks/smscx/"+secret,
		strings.NewReader(dlrBody(providerID, uuid, "DELIVERED")))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false
	}
	acked := time.Now()
	for {
		if delivered(ctx, client, s, apptID, msgID) {
			return time.Since(acked), true
		}
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(pollWait(time.Since(acked))):
		}
	}
}

// pollWait is how long oneLag waits before asking again, elapsed after the
// 200: 20 ms at first, then a tenth of the time waited so far, at most a
// second. The lag it reports is late by at most that wait (about 10%, never
// early), and a growing backlog is not made worse by the polls themselves:
// at 20 ms each, a few dozen samples waiting for seconds cost the server
// thousands of API requests a second.
func pollWait(elapsed time.Duration) time.Duration {
	return min(20*time.Millisecond+elapsed/10, time.Second)
}

// delivered reports whether the API shows message msgID of appointment
// apptID as delivered.
func delivered(ctx context.Context, client *http.Client, s *server, apptID, msgID uint) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/appointments/%d", s.url, apptID), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var a struct {
		Messages []struct {
			ID     uint   `json:"id"`
			Status string `json:"status"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return false
	}
	for _, m := range a.Messages {
		if m.ID == msgID {
			return m.Status == "delivered"
		}
	}
	return false
}
