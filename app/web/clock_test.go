package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
)

func TestClockFormatLayouts(t *testing.T) {
	at := time.Date(2026, 3, 3, 14, 5, 9, 0, time.UTC)
	for _, tc := range []struct {
		twelve       bool
		layout, want string
	}{
		{false, "Mon 2 Jan 15:04", "Tue 3 Mar 14:05"},
		{true, "Mon 2 Jan 15:04", "Tue 3 Mar 2:05 PM"},
		{true, "2 Jan 2006 15:04:05 MST", "3 Mar 2026 2:05:09 PM UTC"},
		{true, "Monday 2 January 2006, 15:04", "Tuesday 3 March 2026, 2:05 PM"},
		{true, "Mon 2 Jan 2006", "Tue 3 Mar 2026"},
	} {
		if got := (clockFormat{twelve: tc.twelve}).format(at, tc.layout); got != tc.want {
			t.Errorf("12h=%v %q: %q, want %q", tc.twelve, tc.layout, got, tc.want)
		}
	}
	if got := (clockFormat{twelve: true}).minutes(0); got != "12:00 AM" {
		t.Errorf("midnight on a 12-hour clock: %q", got)
	}
	if got := (clockFormat{}).minutes(13*60 + 30); got != "13:30" {
		t.Errorf("13:30 on a 24-hour clock: %q", got)
	}
}

// smsRE finds what the clinic's texts say (in the patient's language, on
// its own clock) and the timeline's stored lines; neither is the page's own
// writing of a time.
var smsRE = regexp.MustCompile(`(?s)<pre class="sms"[^>]*>.*?</pre>|<div class="bubble-text">.*?</div>|<ul class="timeline".*?</ul>`)

// timeRE finds times of day in a page's text, with an AM/PM when there is one.
var timeRE = regexp.MustCompile(`\b\d{1,2}:\d{2}(:\d{2})?(\s?[AP]M)?`)

// Every time of day a page shows follows the clinic's clock: on a 12-hour
// clock each carries AM or PM, on a 24-hour one none does.
func TestPagesShowTimesOnTheClinicsClock(t *testing.T) {
	for _, twelve := range []bool{true, false} {
		name := "24h"
		var opts []appOption
		if twelve {
			name, opts = "12h", []appOption{withClock12h()}
		}
		t.Run(name, func(t *testing.T) {
			f := newRemindersFixture(t, opts...)
			staff := f.a.loggedIn("front@example.com", models.RoleStaff)
			want := "10:00"
			if twelve {
				want = "10:00 AM"
			}
			for _, path := range []string{
				"/appointments/" + itoa(f.appt.ID),
				"/appointments?view=list&from=2026-03-01&to=2026-03-09",
				"/appointments?date=2026-03-03",
				"/appointments?date=2026-03-03&view=week",
				"/patients/" + itoa(f.patient.ID),
				"/?from=2026-03-03&to=2026-03-03",
				"/upcoming",
			} {
				status, body := staff.get(path)
				if status != http.StatusOK {
					t.Fatalf("%s: %d", path, status)
				}
				text := tagRE.ReplaceAllString(smsRE.ReplaceAllString(body, " "), " ")
				if !strings.Contains(text, want) {
					t.Errorf("%s does not show the visit at %q", path, want)
				}
				for _, m := range timeRE.FindAllStringSubmatch(text, -1) {
					if hasAMPM := m[2] != ""; hasAMPM != twelve {
						i := strings.Index(text, m[0])
						t.Errorf("%s shows %q on a %s clock: …%s…", path, m[0], name, text[max(0, i-80):min(len(text), i+40)])
					}
				}
			}
		})
	}
}
