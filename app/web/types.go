package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// typeClass is the class that colours an element in an appointment
// type's colour (see typesCSS); the page's Content-Security-Policy allows
// no style attribute, so the colours come in a stylesheet.
func typeClass(id uint) string { return "type-c" + strconv.FormatUint(uint64(id), 10) }

// typesCSS answers GET /appointment-types.css: for each type, its colour
// as a background with dark or white text, whichever is readable on it
// (contrast at least 4.5:1), and as the colour of a marker's border.
func (s *Server) typesCSS(c *gin.Context) {
	ts, err := s.clinic.ListTypes(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	var b strings.Builder
	for _, t := range ts {
		col, ok := clinic.ParseColour(t.Colour)
		if !ok {
			col = clinic.DefaultTypeColour
		}
		cl := typeClass(t.ID)
		fmt.Fprintf(&b, ".%s{background:%s;color:%s}.%s-mark{border-left-color:%s}\n", cl, col, clinic.TypeTextColour(col), cl, col)
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(b.String()))
}

type adminTypesData struct {
	Types []models.AppointmentType
}

func (s *Server) adminTypes(c *gin.Context) {
	ts, err := s.clinic.ListTypes(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.html(c, http.StatusOK, "admin_types", s.page(c, "Appointment types", "admin", adminTypesData{Types: ts}))
}

// typeForm is the type form as typed.
type typeForm struct {
	Name, Duration, Colour string
}

func readTypeForm(c *gin.Context) typeForm {
	return typeForm{
		Name:     c.PostForm("name"),
		Duration: strings.TrimSpace(c.PostForm("default_duration_minutes")),
		Colour:   strings.TrimSpace(c.PostForm("colour")),
	}
}

func (f typeForm) input() (clinic.TypeInput, models.FieldErrors) {
	in := clinic.TypeInput{Name: f.Name, Colour: f.Colour}
	n, err := strconv.Atoi(f.Duration)
	if err != nil {
		return in, models.FieldErrors{"default_duration_minutes": "must be a whole number of minutes"}
	}
	in.DefaultDurationMinutes = n
	return in, nil
}

type adminTypeFormData struct {
	ID     uint
	Form   typeForm
	Errors models.FieldErrors
	Other  []string
}

func (s *Server) adminTypeFormPage(c *gin.Context, status int, id uint, f typeForm, fe models.FieldErrors) {
	d := adminTypeFormData{ID: id, Form: f, Errors: fe, Other: otherErrors(fe, "name", "default_duration_minutes", "colour")}
	title := "New appointment type"
	if id != 0 {
		title = "Edit appointment type"
	}
	s.html(c, status, "admin_type_form", s.page(c, title, "admin", d))
}

func (s *Server) adminTypeNew(c *gin.Context) {
	s.adminTypeFormPage(c, http.StatusOK, 0, typeForm{Duration: "30", Colour: clinic.DefaultTypeColour}, nil)
}

func (s *Server) adminTypeEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	t, err := s.clinic.GetType(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.adminTypeFormPage(c, http.StatusOK, id, typeForm{Name: t.Name, Duration: strconv.Itoa(t.DefaultDurationMinutes), Colour: t.Colour}, nil)
}

func (s *Server) adminTypeCreate(c *gin.Context) { s.adminTypeSave(c, 0) }

func (s *Server) adminTypeUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	s.adminTypeSave(c, id)
}

func (s *Server) adminTypeSave(c *gin.Context, id uint) {
	f := readTypeForm(c)
	in, fe := f.input()
	if len(fe) > 0 {
		s.adminTypeFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	var t *models.AppointmentType
	var err error
	if id == 0 {
		t, err = s.clinic.CreateType(c.Request.Context(), actorOf(c), in)
	} else {
		t, err = s.clinic.UpdateType(c.Request.Context(), actorOf(c), id, in)
	}
	if fe, ok := models.AsFieldErrors(err); ok {
		s.adminTypeFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Appointment type "+t.Name+" saved.")
	c.Redirect(http.StatusSeeOther, "/admin/types")
}
