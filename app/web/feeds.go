package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/feeds"
	"apptconfirm/app/ical"
	"apptconfirm/models"
)

// feed answers GET /feeds/{token}.ics with the feed's calendar; an unknown
// or revoked token is a plain 404.
func (s *Server) feed(c *gin.Context) {
	token, ok := strings.CutSuffix(c.Param("file"), ".ics")
	if !ok || token == "" {
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	// The calendar is built in memory first, so that a failure is a clean
	// error rather than a cut calendar.
	var buf strings.Builder
	err := s.feeds.Write(c.Request.Context(), &buf, token)
	switch {
	case errors.Is(err, models.ErrNotFound):
		c.String(http.StatusNotFound, "not found\n")
		return
	case err != nil:
		s.log.ErrorContext(c.Request.Context(), "web: calendar feed failed", "err", err)
		c.String(http.StatusInternalServerError, "internal error\n")
		return
	}
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Robots-Tag", "noindex")
	c.Data(http.StatusOK, ical.ContentType, []byte(buf.String()))
}

// feedsData is the calendar feeds page.
type feedsData struct {
	Feeds     []feeds.Feed
	Providers []models.Provider
	Locations []models.Location
	// Of is the form's choice: "p:<id>" or "l:<id>".
	Of        string
	ShowNames bool
	Errors    models.FieldErrors
	// NewURL is a feed just made: shown this once.
	NewURL string
}

func (s *Server) adminFeeds(c *gin.Context) {
	s.feedsPage(c, http.StatusOK, feedsData{})
}

func (s *Server) feedsPage(c *gin.Context, status int, d feedsData) {
	ctx := c.Request.Context()
	var err error
	if d.Feeds, err = s.feeds.List(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Providers, err = s.clinic.ListProviders(ctx, clinic.ProviderQuery{}); err != nil {
		s.fail(c, err)
		return
	}
	if d.Locations, err = s.clinic.ListLocations(ctx); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.html(c, status, "admin_feeds", s.page(c, "Calendar feeds", "admin", d))
}

func (s *Server) adminFeedCreate(c *gin.Context) {
	d := feedsData{Of: c.PostForm("of"), ShowNames: checked(c, "show_names")}
	in := feeds.Input{ShowNames: d.ShowNames}
	kind, raw, _ := strings.Cut(d.Of, ":")
	id, err := strconv.ParseUint(raw, 10, 32)
	switch {
	case err != nil || id == 0:
		d.Errors = models.FieldErrors{"of": "choose a provider or a location"}
	case kind == "p":
		in.ProviderID = uint(id)
	case kind == "l":
		in.LocationID = uint(id)
	default:
		d.Errors = models.FieldErrors{"of": "choose a provider or a location"}
	}
	if d.Errors == nil {
		_, url, err := s.feeds.Create(c.Request.Context(), actorOf(c), in)
		if _, ok := models.AsFieldErrors(err); ok {
			d.Errors = models.FieldErrors{"of": "choose a provider or a location"}
		} else if err != nil {
			s.fail(c, err)
			return
		} else {
			d = feedsData{NewURL: url}
		}
	}
	status := http.StatusOK
	if d.Errors != nil {
		status = http.StatusUnprocessableEntity
	}
	s.feedsPage(c, status, d)
}

func (s *Server) adminFeedRevoke(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil {
		s.notFound(c)
		return
	}
	if err := s.feeds.Revoke(c.Request.Context(), actorOf(c), uint(id)); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "The feed was revoked: calendars subscribed to it stop updating.")
	c.Redirect(http.StatusSeeOther, "/admin/feeds")
}
