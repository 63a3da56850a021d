package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

// record is how the API creates and changes one kind of the clinic's
// records (locations, providers, appointment types): POST answers 201 with
// the record and its Location, PATCH starts from the stored values so that
// members left out of the body keep theirs.
type record[M any, In any, B interface{ apply(*In) }, J any] struct {
	noun   string // "location": names the record in errors
	path   string // "/locations": where the Location header points
	id     func(*M) uint
	json   func(*M) J
	fresh  func() In   // a new record's values before the body's
	stored func(*M) In // a stored record's values before the body's
	get    func(context.Context, uint) (*M, error)
	create func(context.Context, models.Actor, In) (*M, error)
	update func(context.Context, models.Actor, uint, In) (*M, error)
}

// listJSON answers a list of records, or the error that kept it.
func listJSON[M, J any](a *API, c *gin.Context, ms []M, err error, toJSON func(*M) J) {
	if err != nil {
		a.fail(c, err)
		return
	}
	out := List[J]{Data: make([]J, 0, len(ms))}
	for i := range ms {
		out.Data = append(out.Data, toJSON(&ms[i]))
	}
	writeJSON(c, http.StatusOK, out)
}

// createRecord answers POST on r's collection.
func createRecord[M, In any, B interface{ apply(*In) }, J any](a *API, c *gin.Context, r record[M, In, B, J]) {
	var b B
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	in := r.fresh()
	b.apply(&in)
	m, err := r.create(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+r.path+"/"+strconv.FormatUint(uint64(r.id(m)), 10))
	writeJSON(c, http.StatusCreated, r.json(m))
}

// updateRecord answers PATCH on one of r's records.
func updateRecord[M, In any, B interface{ apply(*In) }, J any](a *API, c *gin.Context, r record[M, In, B, J]) {
	ctx := c.Request.Context()
	id, ok := parseID(c, r.noun)
	if !ok {
		return
	}
	var b B
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	cur, err := r.get(ctx, id)
	if err != nil {
		a.failID(c, err, r.noun, id)
		return
	}
	in := r.stored(cur)
	b.apply(&in)
	m, err := r.update(ctx, actor(c), id, in)
	if err != nil {
		a.failID(c, err, r.noun, id)
		return
	}
	writeJSON(c, http.StatusOK, r.json(m))
}
