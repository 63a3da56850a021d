package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/feeds"
)

// createFeedBody is the body of POST /calendar-feeds.
type createFeedBody struct {
	ProviderID uint `json:"provider_id"`
	LocationID uint `json:"location_id"`
	ShowNames  bool `json:"show_names"`
}

// CalendarFeed is a new feed: its URL holds its secret and is shown once.
type CalendarFeed struct {
	ID  uint   `json:"id"`
	URL string `json:"url"`
}

// CreateCalendarFeed answers POST /calendar-feeds: 201 with the feed's id
// and secret URL.
func (a *API) CreateCalendarFeed(c *gin.Context) {
	if a.feeds == nil {
		a.NotFound(c)
		return
	}
	var b createFeedBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	f, url, err := a.feeds.Create(c.Request.Context(), actor(c), feeds.Input{ProviderID: b.ProviderID, LocationID: b.LocationID, ShowNames: b.ShowNames})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/calendar-feeds/"+strconv.FormatUint(uint64(f.ID), 10))
	writeJSON(c, http.StatusCreated, CalendarFeed{ID: f.ID, URL: url})
}
