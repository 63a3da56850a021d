package web

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// eraseData is the "Erase patient" confirmation page.
type eraseData struct {
	Patient *models.Patient
	// Typed is what the admin typed; Error says why it was refused.
	Typed string
	Error string
	// Appointments is how many appointments the patient has (they stay,
	// without personal data).
	Appointments int64
}

// adminPatientErase shows what erasing a patient does and asks for the
// patient's name to be typed before it does it.
func (s *Server) adminPatientErase(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	p, err := s.clinic.GetPatient(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.erasePage(c, http.StatusOK, eraseData{Patient: p})
}

func (s *Server) erasePage(c *gin.Context, status int, d eraseData) {
	_, total, err := s.clinic.ListAppointments(c.Request.Context(), clinic.AppointmentQuery{PatientID: d.Patient.ID, PerPage: 1})
	if err != nil {
		s.fail(c, err)
		return
	}
	d.Appointments = total
	s.html(c, status, "patient_erase", s.page(c, "Erase "+d.Patient.Name(), "patients", d))
}

// adminPatientEraseDo erases the patient once their name was typed as
// shown (case and spacing aside).
func (s *Server) adminPatientEraseDo(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p, err := s.clinic.GetPatient(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	typed := c.PostForm("confirm_name")
	if !sameName(typed, p.Name()) {
		msg := "Type the patient's name exactly as shown to confirm."
		if strings.TrimSpace(typed) == "" {
			msg = "Type the patient's name to confirm."
		}
		s.erasePage(c, http.StatusUnprocessableEntity, eraseData{Patient: p, Typed: typed, Error: msg})
		return
	}
	if _, err := s.clinic.ErasePatient(ctx, actorOf(c), id); err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, fmt.Sprintf("Patient #%d was erased. Their appointments stay, without their name, number, notes or messages.", id))
	c.Redirect(http.StatusSeeOther, "/patients")
}

// sameName compares a typed name with the patient's, ignoring case and
// runs of spaces.
func sameName(typed, name string) bool {
	norm := func(s string) string {
		return strings.ToLower(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " "))
	}
	return norm(typed) != "" && norm(typed) == norm(name)
}
