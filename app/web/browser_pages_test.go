package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbound"
	"apptconfirm/app/reminders"
	"apptconfirm/app/server"
	"apptconfirm/app/waitlist"
	"apptconfirm/models"
)

// screenWidths are the screens every page must work on: a phone held
// upright (390 px, with the phone's viewport rules) and a laptop.
var screenWidths = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone", 390, 844, true},
	{"laptop", 1366, 900, false},
}

// pagesReachedOtherwise are GET routes the crawl does not follow, each with
// why: they are not pages, or need no browser check of their own.
var pagesReachedOtherwise = map[string]string{
	"/login":                 "visited before logging in",
	"/events":                "the live stream, not a page",
	"/dashboard/body":        "a fragment of the dashboard, checked with it",
	"/inbox/count":           "a number for the menu's live inbox count",
	"/a/:token":              "the patient's own page, reached from an SMS link (browser_patient_test.go)",
	"/a/:token/cancel":       "the patient's own page, reached from an SMS link (browser_patient_test.go)",
	"/favicon.ico":           "a redirect to an asset",
	"/healthz":               "operations endpoint",
	"/readyz":                "operations endpoint",
	"/metrics":               "operations endpoint",
	"/static/*file":          "assets",
	"/feeds/:file":           "a calendar feed (text/calendar) for calendar apps, not a page",
	"/imports/:id":           "an import's page, reached by uploading a file (imports_browser_test.go)",
	"/imports/:id/status":    "the progress the import page polls, not a page",
	"/appointment-types.css": "the stylesheet of the appointment types' colours, loaded by every page",
}

// axePath finds axe-core's browser bundle, which `make deps` installs from
// the npm registry: $APPTCONFIRM_TEST_AXE, else bin/tools/axe. Without it
// the test is skipped loudly, as without Chromium.
func axePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("APPTCONFIRM_TEST_AXE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("APPTCONFIRM_TEST_AXE=%s: %v", p, err)
		}
		return p
	}
	p, err := filepath.Abs("../../bin/tools/axe/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("SKIPPING accessibility test: no axe-core at bin/tools/axe and APPTCONFIRM_TEST_AXE unset (make deps installs it)")
	}
	return p
}

// axeViolation is the part of an axe-core result a person needs to fix it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
	Summary string   `json:"summary"`
}

// runAxe checks the open page against WCAG 2.2 A and AA with axe-core and
// returns its serious and critical violations.
func runAxe(ctx context.Context, source string) ([]axeViolation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`)); err != nil {
		return nil, err
	}
	loaded, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](source+"\n;true")); err != nil {
			return nil, fmt.Errorf("load axe-core: %w", err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
		resultTypes: ["violations"]
	}).then(function (r) {
		return JSON.stringify(r.violations.filter(function (v) {
			return v.impact === "serious" || v.impact === "critical";
		}).map(function (v) {
			return {id: v.id, impact: v.impact, help: v.help,
				targets: v.nodes.slice(0, 4).map(function (n) { return n.target.join(" "); }),
				summary: (v.nodes[0] && v.nodes[0].failureSummary) || ""};
		}));
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe-core's answer: %w", err)
	}
	return vs, nil
}

// routePattern turns a gin route into a regexp matching its paths.
func routePattern(route string) *regexp.Regexp {
	parts := strings.Split(route, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			parts[i] = `[^/]+`
		case strings.HasPrefix(p, "*"):
			parts[i] = `.*`
		default:
			parts[i] = regexp.QuoteMeta(p)
		}
	}
	return regexp.MustCompile("^" + strings.Join(parts, "/") + "$")
}

// pageRoutes are the GET routes of pages for people: not the API, and not
// downloads (a file name with an extension in the route).
func pageRoutes(app *server.App) []string {
	var out []string
	for _, r := range app.Web.Routes() {
		if r.Method != "GET" || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		if _, skip := pagesReachedOtherwise[r.Path]; skip {
			continue
		}
		if last := r.Path[strings.LastIndex(r.Path, "/")+1:]; strings.Contains(last, ".") {
			continue
		}
		out = append(out, r.Path)
	}
	sort.Strings(out)
	return out
}

// seedEveryPage gives every page something to show: the demo clinic, an
// admin and an outbound webhook endpoint.
func seedEveryPage(t *testing.T, app *server.App) {
	t.Helper()
	ctx := context.Background()
	if err := app.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: "admin@example.com", Name: "Ada Admin", Role: "admin", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	seedTypesAndRules(t, app)
	// Two patients on the waitlist, so its page shows rows.
	ps, _, err := app.Clinic.ListPatients(ctx, clinic.PatientQuery{Sort: "name", PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		in := waitlist.EntryInput{PatientID: p.ID, Notes: "Prefers mornings; can come at short notice"}
		if i == 0 {
			in.Days, in.From, in.Until = []string{"mon", "wed", "fri"}, "08:30", "12:00"
		}
		if _, err := app.Waitlist.Add(ctx, models.SystemActor(), in); err != nil {
			t.Fatal(err)
		}
	}
	// An outbound webhook endpoint, so its page is linked.
	if app.Outbound != nil {
		hook := "https://erp.example.com/hook"
		if _, err := app.Outbound.Create(ctx, models.SystemActor(), outbound.EndpointInput{URL: &hook, Events: []string{"appointment.created"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// seedTypesAndRules adds appointment types (given to some upcoming
// appointments, so the day view shows them), a rule limited to a type and
// a nudge, so their pages show each kind.
func seedTypesAndRules(t *testing.T, app *server.App) {
	t.Helper()
	ctx := context.Background()
	var types []*models.AppointmentType
	for _, in := range []clinic.TypeInput{
		{Name: "Check-up", DefaultDurationMinutes: 30, Colour: "#2563eb"},
		{Name: "Cleaning", DefaultDurationMinutes: 45, Colour: "#fde047"},
		{Name: "Emergency", DefaultDurationMinutes: 20, Colour: "#b91c1c"},
	} {
		ty, err := app.Clinic.CreateType(ctx, models.SystemActor(), in)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ty)
	}
	upcoming, _, err := app.Clinic.ListAppointments(ctx, clinic.AppointmentQuery{From: time.Now(), PerPage: 60})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range upcoming {
		id := types[i%len(types)].ID
		if _, err := app.Clinic.UpdateAppointment(ctx, models.SystemActor(), a.ID, clinic.AppointmentInput{
			ProviderID: a.ProviderID, Notes: a.Notes, TypeSet: true, TypeID: &id,
		}); err != nil {
			t.Fatal(err)
		}
	}
	rules := reminders.New(app.Store, reminders.Options{Planner: app.Outbox})
	day, err := rules.CreateRule(ctx, models.SystemActor(), reminders.RuleInput{
		Name: "Check-up, day before at 10", Timing: models.RuleDayBefore, DaysBefore: "1", LocalTime: "10:00",
		TypeIDs: []uint{types[0].ID}, Enabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.CreateRule(ctx, models.SystemActor(), reminders.RuleInput{
		Name: "Opened, not confirmed", Timing: models.RuleNudge, AfterRuleID: day.ID, After: "2h",
		Signal: models.SignalClickedNotConfirmed, Enabled: true,
	}); err != nil {
		t.Fatal(err)
	}
}

// logIn logs the browser in with the form, as a person does.
func logIn(ctx context.Context, base, email string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, email),
		chromedp.SendKeys(`#password`, "correct horse battery"),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`header.top`),
	)
}

// setScreen makes the tab a phone or a laptop screen.
func setScreen(ctx context.Context, width, height int64, mobile bool) error {
	_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile,
	})
	return err
}

// sidewaysScroll is how many CSS pixels the open page is wider than the
// screen, and the widest element sticking out (for the failure message).
func sidewaysScroll(ctx context.Context) (int, string, error) {
	type result struct {
		Over    int    `json:"over"`
		Culprit string `json:"culprit"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
		var d = document.documentElement, w = d.clientWidth, worst = null, right = w;
		document.querySelectorAll("body *").forEach(function (el) {
			var r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > right + 1) { right = r.right; worst = el; }
		});
		var name = worst ? worst.tagName.toLowerCase() + (worst.id ? "#" + worst.id : "") + (worst.className && typeof worst.className === "string" ? "." + worst.className.trim().split(/\s+/).join(".") : "") : "";
		return JSON.stringify({over: Math.max(0, d.scrollWidth - w), culprit: name});
	})()`))
	if err != nil {
		return 0, "", err
	}
	var r result
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return 0, "", err
	}
	return r.Over, r.Culprit, nil
}

// TestBrowserEveryPage follows every link from the dashboard, once per page
// route, on a phone and on a laptop screen: no page may scroll sideways,
// and axe-core, run inside the browser, must find no serious or critical
// WCAG 2.2 AA violation. Every page route must be reached (or be listed in
// pagesReachedOtherwise with its reason). APPTCONFIRM_SCREENSHOTS=DIR keeps
// a full-page screenshot of each page at each width.
func TestBrowserEveryPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromium(t)
	axeSource, err := os.ReadFile(axePath(t))
	if err != nil {
		t.Fatal(err)
	}
	app, base := startBrowserApp(t, "America/New_York")
	seedEveryPage(t, app)
	routes := pageRoutes(app)
	patterns := make([]*regexp.Regexp, len(routes))
	for i, r := range routes {
		patterns[i] = routePattern(r)
	}
	routeOf := func(path string) string {
		for _, r := range routes {
			if r == path {
				return r
			}
		}
		for i, p := range patterns {
			if p.MatchString(path) {
				return routes[i]
			}
		}
		return ""
	}
	shots := os.Getenv("APPTCONFIRM_SCREENSHOTS")

	bctx := newChromiumFor(t, exe, 1366, 900, 8*time.Minute)
	check := func(screen string, label string) {
		t.Helper()
		over, culprit, err := sidewaysScroll(bctx)
		if err != nil {
			t.Fatalf("%s at %s: %v", label, screen, err)
		}
		if over > 0 {
			t.Errorf("%s scrolls sideways by %d px on the %s screen (widest: %s)", label, over, screen, culprit)
		}
		vs, err := runAxe(bctx, string(axeSource))
		if err != nil {
			t.Fatalf("%s at %s: %v", label, screen, err)
		}
		for _, v := range vs {
			t.Errorf("%s (%s screen): %s %s: %s at %q\n  %s", label, screen, v.Impact, v.ID, v.Help, v.Targets, v.Summary)
		}
		if shots != "" {
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			name := screenshotName(label) + "-" + screen + ".png"
			if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The login page, before logging in.
	for _, s := range screenWidths {
		if err := setScreen(bctx, s.width, s.height, s.mobile); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(`#email`)); err != nil {
			t.Fatal(err)
		}
		check(s.name, "/login")
	}
	if err := setScreen(bctx, 1366, 900, false); err != nil {
		t.Fatal(err)
	}
	if err := logIn(bctx, base, "admin@example.com"); err != nil {
		t.Fatalf("log in: %v", err)
	}

	// Crawl: one path per route, in the order links are found.
	visited := map[string]string{} // route -> the path visited
	var order []string
	queue := []string{"/"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		route := routeOf(path)
		if route == "" {
			continue
		}
		if _, seen := visited[route]; seen {
			continue
		}
		visited[route] = path
		order = append(order, route)
		if err := chromedp.Do(bctx, chromedp.Navigate(base+path)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		hrefs, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("a[href]")).map(function (a) { return a.href; })`))
		if err != nil {
			t.Fatalf("links of %s: %v", path, err)
		}
		for _, h := range hrefs {
			u, err := url.Parse(h)
			if err != nil || "http://"+u.Host != base {
				continue
			}
			queue = append(queue, u.Path)
		}
	}
	var missed []string
	for _, r := range routes {
		if _, ok := visited[r]; !ok {
			missed = append(missed, r)
		}
	}
	if len(missed) > 0 {
		t.Errorf("page routes no link leads to from the dashboard (link them, or add them to pagesReachedOtherwise with the reason): %q", missed)
	}

	// Every page found, on every screen.
	for _, s := range screenWidths {
		if err := setScreen(bctx, s.width, s.height, s.mobile); err != nil {
			t.Fatal(err)
		}
		for _, route := range order {
			if err := chromedp.Do(bctx, chromedp.Navigate(base+visited[route])); err != nil {
				t.Fatalf("open %s: %v", visited[route], err)
			}
			check(s.name, route)
		}
	}
	t.Logf("checked %d pages on %d screens", len(order)+1, len(screenWidths))
}

// screenshotName turns a route into a file name: "/admin/users/:id/edit"
// becomes "admin-users-id-edit", "/" becomes "dashboard".
func screenshotName(route string) string {
	s := strings.Trim(strings.NewReplacer(":", "", "*", "", "/", "-").Replace(route), "-")
	if s == "" {
		return "dashboard"
	}
	return s
}
