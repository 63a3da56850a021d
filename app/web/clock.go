package web

import (
	"strings"
	"time"
)

// clockFormat is how every staff page writes a time of day, following
// clinic.clock: "15:04" on a 24-hour clock, "3:04 PM" on a 12-hour one.
// Pages and templates write their layouts with Go's 24-hour "15:04";
// the clock turns them into the clinic's format in one place.
type clockFormat struct {
	twelve bool
}

// layout rewrites a Go time layout for the clinic's clock.
func (c clockFormat) layout(l string) string {
	if !c.twelve {
		return l
	}
	l = strings.Replace(l, "15:04:05", "3:04:05 PM", 1)
	return strings.Replace(l, "15:04", "3:04 PM", 1)
}

// format writes t (already in the zone wanted) with layout.
func (c clockFormat) format(t time.Time, layout string) string {
	return t.Format(c.layout(layout))
}

// in writes t in zone with layout; a nil zone is UTC.
func (c clockFormat) in(t time.Time, zone *time.Location, layout string) string {
	if zone == nil {
		zone = time.UTC
	}
	return c.format(t.In(zone), layout)
}

// minutes writes minutes after midnight as a time of day.
func (c clockFormat) minutes(m int) string {
	return c.format(time.Date(2000, 1, 1, m/60, m%60, 0, 0, time.UTC), "15:04")
}
