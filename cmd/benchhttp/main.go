// Command benchhttp measures the SMS.CX webhook endpoint of real
// `apptconfirm serve` processes against a bare gin handler that only
// answers 200, on the same machine in the same run (make bench-http), and
// beside a gin handler that stores each request with one plain insert
// (-plain-insert, on by default): what a durable, de-duplicated
// acknowledgement costs with nothing else.
//
// For each database and each connection count it starts, one after the
// other, the bare handler and every build named with -bin (so an old and a
// new build run alternately), each on a freshly seeded database, and drives
// it with wrk for -duration: single-event dlr_update bodies with random
// msgIds, posted to /webhooks/smscx/<secret>. Meanwhile it posts delivery
// reports for a sample of real seeded messages and polls the REST API until
// each shows as delivered: the apply lag, from the 200 to the change being
// visible. It prints requests/s, the ratio to the bare handler, p50/p99 as
// wrk measured them, the lag and the server's peak RSS, with the load
// average of the machine.
//
// With -sustained it offers a fixed rate instead (5,000 events/s for 60 s by
// default: 70% delivery reports, 25% replies, 5% opt-outs and clicks, each
// about real seeded messages and patients) from its own open-loop sender
// and reports the lag and memory.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"apptconfirm/app/web"
)

type options struct {
	bins       []binary
	dbs        []string
	pgDSN      string
	conns      []int
	duration   time.Duration
	seedCount  int
	samples    int
	sustained  bool
	rate       int
	sustainFor time.Duration
	keep       bool
	lagTrace   bool
	insert     bool
}

// binary is one build under test: a name for the report and its path.
type binary struct{ name, path string }

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-bare" {
		// The yardstick runs in its own process, as the servers do.
		srv := &http.Server{Addr: os.Args[2], Handler: web.BareWebhookHandler(), ReadHeaderTimeout: 5 * time.Second}
		if err := srv.ListenAndServe(); err != nil {
			fmt.Fprintln(os.Stderr, "benchhttp: bare handler:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "-insert" {
		if err := serveInsert(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fmt.Fprintln(os.Stderr, "benchhttp: plain insert handler:", err)
			os.Exit(1)
		}
		return
	}
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err = run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchhttp:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("benchhttp", flag.ContinueOnError)
	bins := fs.String("bin", "new=bin/apptconfirm", "builds to measure, name=path, comma-separated; they run alternately (old=bin/old/apptconfirm,new=bin/apptconfirm)")
	dbs := fs.String("db", "sqlite", "databases, comma-separated: sqlite, postgres")
	pg := fs.String("pg-dsn", "", "PostgreSQL server for -db postgres (a schema of its own is created and dropped); default $APPTCONFIRM_TEST_POSTGRES_DSN or postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	conns := fs.String("conns", "1,8,64", "wrk connection counts, comma-separated")
	dur := fs.Duration("duration", 10*time.Second, "length of each wrk run")
	seedN := fs.Int("seed", 2000, "appointments seeded into each fresh database")
	samples := fs.Int("lag-samples", 60, "delivery reports of real messages whose apply lag is measured per run")
	sus := fs.Bool("sustained", false, "offer -rate events/s for -for instead of the wrk runs")
	rate := fs.Int("rate", 5000, "events per second offered in -sustained mode")
	sfor := fs.Duration("for", 60*time.Second, "length of the -sustained run")
	keep := fs.Bool("keep", false, "keep the temporary directories (server logs)")
	trace := fs.Bool("lag-trace", false, "print every lag sample with when in the run its report was posted")
	insert := fs.Bool("plain-insert", true, "also run the second yardstick in wrk mode: gin storing each request with one plain insert")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{duration: *dur, seedCount: *seedN, samples: *samples, sustained: *sus, rate: *rate, sustainFor: *sfor, keep: *keep, lagTrace: *trace, insert: *insert}
	for _, b := range strings.Split(*bins, ",") {
		name, path, ok := strings.Cut(strings.TrimSpace(b), "=")
		if !ok || name == "" || path == "" {
			return o, fmt.Errorf("-bin: want name=path, got %q", b)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return o, err
		}
		if _, err := os.Stat(abs); err != nil {
			return o, fmt.Errorf("-bin %s: %w", name, err)
		}
		o.bins = append(o.bins, binary{name, abs})
	}
	for _, d := range strings.Split(*dbs, ",") {
		switch d = strings.TrimSpace(d); d {
		case "sqlite", "postgres":
			o.dbs = append(o.dbs, d)
		case "":
		default:
			return o, fmt.Errorf("-db: want sqlite or postgres, got %q", d)
		}
	}
	o.pgDSN = *pg
	if o.pgDSN == "" {
		o.pgDSN = os.Getenv("APPTCONFIRM_TEST_POSTGRES_DSN")
	}
	if o.pgDSN == "" {
		o.pgDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-conns: want positive numbers, got %q", c)
		}
		o.conns = append(o.conns, n)
	}
	if o.duration < 3*time.Second || o.sustainFor < 3*time.Second {
		return o, errors.New("-duration and -for must be at least 3s")
	}
	if o.rate < 1 || o.seedCount < 100 || o.samples < 1 {
		return o, errors.New("-rate and -lag-samples must be positive, -seed at least 100")
	}
	return o, nil
}

func run(ctx context.Context, o options) error {
	if !o.sustained {
		if _, err := lookWrk(); err != nil {
			return err
		}
	}
	fmt.Printf("benchhttp %s: %d cores, builds %s, databases %s\n",
		time.Now().UTC().Format(time.RFC3339), numCPU(), binNames(o.bins), strings.Join(o.dbs, ", "))
	if o.sustained {
		return runSustained(ctx, o)
	}
	return runWrk(ctx, o)
}

func binNames(bins []binary) string {
	var s []string
	for _, b := range bins {
		s = append(s, b.name+" ("+b.path+")")
	}
	return strings.Join(s, ", ")
}
