package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/api"
	"apptconfirm/app/feeds"
	"apptconfirm/models"
)

// WebhookPrefix starts SMS.CX's webhook: POST /webhooks/smscx/{secret}.
const WebhookPrefix = "/webhooks/smscx/"

// routes is the route table of the whole HTTP surface, grouped by who may
// call each route and how they prove it. Pages get a body cap (1 MB unless
// setBodyLimit gives a route more), sessions, cross-origin protection and
// CSRF tokens; nothing else does. An anonymous visitor's pages write no
// session: the login form's CSRF token is a signed cookie of its own.
func (s *Server) routes() {
	e := s.engine

	// Anyone: static assets and the operations endpoints.
	e.GET("/static/*file", gin.WrapH(s.assets))
	e.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg") })
	if s.api != nil {
		e.GET("/healthz", s.api.CountRequest, s.api.Healthz)
		e.HEAD("/healthz", s.api.CountRequest, s.api.Healthz)
		e.GET("/readyz", s.api.CountRequest, s.api.Readyz)
		e.GET("/metrics", s.api.CountRequest, s.api.Metrics)
	}

	// SMS.CX: the unguessable secret in the path (the receiver compares
	// it). Simulate mode's fake gateway is not served here: the
	// simulator's client reaches it in-process.
	if s.webhook != nil {
		e.POST(WebhookPrefix+":secret", gin.WrapH(s.webhook))
	}

	// Integrators: a bearer token, except for the API's own description.
	if s.api != nil {
		v1 := e.Group(api.BasePath, s.api.Middleware()...)
		v1.GET("/openapi.json", s.api.OpenAPI)
		tok := v1.Group("", s.api.Authenticate)
		tok.GET("/appointments", s.api.ListAppointments)
		tok.POST("/appointments", s.api.CreateAppointment)
		tok.POST("/appointments/outcomes", s.api.RecordOutcomes)
		tok.GET("/appointments/:id", s.api.GetAppointment)
		tok.PATCH("/appointments/:id", s.api.UpdateAppointment)
		tok.POST("/appointments/:id/cancel", s.api.CancelAppointment)
		tok.GET("/appointments/:id/timeline", s.api.Timeline)
		tok.POST("/appointments/:id/offers", s.api.CreateOffer)
		tok.GET("/patients", s.api.ListPatients)
		tok.POST("/patients", s.api.CreatePatient)
		tok.GET("/patients/:id", s.api.GetPatient)
		tok.DELETE("/patients/:id", s.api.ErasePatient)
		tok.GET("/waitlist", s.api.ListWaitlist)
		tok.POST("/waitlist", s.api.CreateWaitlistEntry)
		tok.GET("/waitlist/:id", s.api.GetWaitlistEntry)
		tok.DELETE("/waitlist/:id", s.api.DeleteWaitlistEntry)
		tok.GET("/stats", s.api.Stats)
		tok.GET("/analytics", s.api.Analytics)
		tok.GET("/templates", s.api.ListTemplates)
		tok.PUT("/templates", s.api.PutTemplates)
		tok.GET("/webhook-endpoints", s.api.ListWebhookEndpoints)
		tok.POST("/webhook-endpoints", s.api.CreateWebhookEndpoint)
		tok.GET("/webhook-endpoints/:id", s.api.GetWebhookEndpoint)
		tok.PATCH("/webhook-endpoints/:id", s.api.UpdateWebhookEndpoint)
		tok.DELETE("/webhook-endpoints/:id", s.api.DeleteWebhookEndpoint)
		tok.POST("/webhook-endpoints/:id/rotate-secret", s.api.RotateWebhookSecret)
		tok.POST("/webhook-endpoints/:id/test", s.api.TestWebhookEndpoint)
		tok.GET("/webhook-endpoints/:id/deliveries", s.api.ListWebhookDeliveries)
		tok.GET("/appointments/:id/slots", s.api.AppointmentSlots)
		tok.GET("/providers/:id/hours", s.api.GetProviderHours)
		tok.PUT("/providers/:id/hours", s.api.PutProviderHours)
		tok.DELETE("/providers/:id/hours", s.api.DeleteProviderHours)
		tok.GET("/locations/:id/hours", s.api.GetLocationHours)
		tok.PUT("/locations/:id/hours", s.api.PutLocationHours)
		tok.DELETE("/locations/:id/hours", s.api.DeleteLocationHours)
		tok.PUT("/appointments/by-external-id/:external_id", s.api.UpsertAppointment)
		tok.POST("/imports", s.api.Import)
		tok.GET("/exports/appointments", s.api.ExportAppointments)
		tok.GET("/locations", s.api.ListLocations)
		tok.POST("/locations", s.api.CreateLocation)
		tok.PATCH("/locations/:id", s.api.UpdateLocation)
		tok.GET("/providers", s.api.ListProviders)
		tok.POST("/providers", s.api.CreateProvider)
		tok.PATCH("/providers/:id", s.api.UpdateProvider)
		tok.GET("/appointment-types", s.api.ListAppointmentTypes)
		tok.POST("/appointment-types", s.api.CreateAppointmentType)
		tok.PATCH("/appointment-types/:id", s.api.UpdateAppointmentType)
		tok.POST("/calendar-feeds", s.api.CreateCalendarFeed)
	}

	// Calendar programs: the feed's secret token in the path.
	if s.feeds != nil {
		e.GET(feeds.PathPrefix+":file", s.feed)
	}

	// Patients: the signed token in the path names the appointment; no
	// session. Reading changes nothing; the actions are POSTs, checked to
	// come from the page itself.
	if s.patient != nil {
		pt := e.Group("/a/:token", s.capBody, s.crossOrigin)
		pt.GET("", s.patientLinkShow)
		pt.GET("/cancel", s.patientCancelAsk)
		pt.GET("/calendar.ics", s.patientCalendar)
		pt.POST("/confirm", s.patientConfirm)
		pt.POST("/cancel", s.patientCancel)
		pt.POST("/another-time", s.patientAsk)
		pt.POST("/pick", s.patientPick)
	}

	// Browsers, before logging in: the login form's token is checked
	// against its own cookie, not a session.
	pub := e.Group("/", s.capBody, s.session, s.crossOrigin)
	pub.GET("/login", s.loginForm)
	pub.POST("/login", s.checkLoginCSRF, s.login)

	// Staff and admins.
	staff := e.Group("/", s.capBody, s.session, s.crossOrigin, s.requireUser, s.checkCSRF)
	staff.POST("/logout", s.logout)
	staff.GET("/", s.dashboard)
	staff.GET("/appointment-types.css", s.typesCSS)
	staff.GET("/dashboard/body", s.dashboardBody)
	staff.GET("/events", s.events)
	staff.GET("/patients", s.patientList)
	staff.GET("/patients/new", s.patientNew)
	staff.POST("/patients", s.patientCreate)
	staff.GET("/patients/:id", s.patientShow)
	staff.GET("/patients/:id/edit", s.patientEdit)
	staff.POST("/patients/:id", s.patientUpdate)
	staff.POST("/patients/:id/opt-out", s.patientOptOut)
	staff.POST("/patients/:id/opt-in", s.patientOptIn)
	staff.GET("/appointments", s.appointmentList)
	staff.GET("/appointments/new", s.appointmentNew)
	staff.POST("/appointments", s.appointmentCreate)
	staff.GET("/appointments/:id", s.appointmentShow)
	staff.GET("/appointments/:id/edit", s.appointmentEdit)
	staff.POST("/appointments/:id", s.appointmentUpdate)
	staff.GET("/appointments/:id/reschedule", s.appointmentRescheduleForm)
	staff.POST("/appointments/:id/reschedule", s.appointmentReschedule)
	staff.POST("/appointments/:id/confirm", s.appointmentConfirm)
	staff.POST("/appointments/:id/cancel", s.appointmentCancel)
	staff.POST("/appointments/:id/complete", s.appointmentComplete)
	staff.POST("/appointments/:id/no-show", s.appointmentNoShow)
	staff.POST("/appointments/:id/restore", s.appointmentRestore)
	staff.POST("/appointments/:id/offers", s.appointmentOffer)
	staff.GET("/outcomes", s.outcomes)
	staff.POST("/outcomes", s.outcomesSave)
	if s.waitlist != nil {
		staff.GET("/waitlist", s.waitlistList)
		staff.GET("/waitlist/new", s.waitlistNew)
		staff.POST("/waitlist", s.waitlistCreate)
		staff.POST("/waitlist/:id/remove", s.waitlistRemove)
	}
	staff.GET("/upcoming", s.upcoming)
	staff.POST("/upcoming/:id/send", s.upcomingSend)
	staff.POST("/upcoming/:id/skip", s.upcomingSkip)
	if s.inbox != nil {
		staff.GET("/inbox", s.inbox.list)
		staff.GET("/inbox/count", s.inbox.count)
		staff.POST("/patients/:id/messages", s.patientSend)
		staff.POST("/inbox/:id/confirm", s.inbox.confirm)
		staff.POST("/inbox/:id/cancel", s.inbox.cancel)
		staff.POST("/inbox/:id/answer", s.inbox.answer)
		staff.POST("/inbox/:id/handled", s.inbox.handled)
		staff.POST("/inbox/:id/offer", s.inbox.offer)
	}
	if s.smscx != nil {
		staff.POST("/appointments/:id/simulate-reply", s.smscx.simulateReply)
	}
	if s.imports != nil {
		// The upload's multipart wrapping adds a little to the file.
		s.setBodyLimit(http.MethodPost, "/imports", s.imports.maxBytes+DefaultMaxFormBytes)
		staff.GET("/imports", s.imports.form)
		staff.POST("/imports", s.imports.upload)
		staff.GET("/imports/:id", s.imports.show)
		staff.GET("/imports/:id/status", s.imports.status)
		staff.POST("/imports/:id/preview", s.imports.preview)
		staff.POST("/imports/:id/apply", s.imports.apply)
		staff.GET("/imports/:id/refused.csv", s.imports.refused)
	}

	// Admins only.
	admin := e.Group("/admin", s.capBody, s.session, s.crossOrigin, s.requireUser, s.requireAdmin, s.checkCSRF)
	admin.GET("", s.adminIndex)
	admin.GET("/locations", s.adminLocations)
	admin.GET("/locations/new", s.adminLocationNew)
	admin.POST("/locations", s.adminLocationCreate)
	admin.GET("/locations/:id/edit", s.adminLocationEdit)
	admin.POST("/locations/:id", s.adminLocationUpdate)
	admin.GET("/types", s.adminTypes)
	admin.GET("/types/new", s.adminTypeNew)
	admin.POST("/types", s.adminTypeCreate)
	admin.GET("/types/:id/edit", s.adminTypeEdit)
	admin.POST("/types/:id", s.adminTypeUpdate)
	admin.GET("/providers", s.adminProviders)
	admin.GET("/providers/new", s.adminProviderNew)
	admin.POST("/providers", s.adminProviderCreate)
	admin.GET("/providers/:id/edit", s.adminProviderEdit)
	admin.POST("/providers/:id", s.adminProviderUpdate)
	admin.GET("/providers/:id/hours", func(c *gin.Context) { s.hoursShow(c, models.HoursOfProvider) })
	admin.POST("/providers/:id/hours", func(c *gin.Context) { s.hoursSave(c, models.HoursOfProvider) })
	admin.POST("/providers/:id/hours/clear", func(c *gin.Context) { s.hoursClear(c, models.HoursOfProvider) })
	admin.GET("/locations/:id/hours", func(c *gin.Context) { s.hoursShow(c, models.HoursOfLocation) })
	admin.POST("/locations/:id/hours", func(c *gin.Context) { s.hoursSave(c, models.HoursOfLocation) })
	admin.POST("/locations/:id/hours/clear", func(c *gin.Context) { s.hoursClear(c, models.HoursOfLocation) })
	admin.GET("/users", s.adminUsers)
	admin.GET("/users/new", s.adminUserNew)
	admin.POST("/users", s.adminUserCreate)
	admin.GET("/users/:id/edit", s.adminUserEdit)
	admin.POST("/users/:id", s.adminUserUpdate)
	admin.POST("/users/:id/unlock", s.adminUserUnlock)
	admin.GET("/patients/:id/erase", s.adminPatientErase)
	admin.POST("/patients/:id/erase", s.adminPatientEraseDo)
	admin.GET("/audit", s.adminAudit)
	if s.analytics != nil {
		// The figures sit beside the dashboard, at the top level, for admins.
		top := e.Group("/", s.capBody, s.session, s.crossOrigin, s.requireUser, s.requireAdmin, s.checkCSRF)
		top.GET("/analytics", s.analyticsPage)
		top.GET("/analytics.csv", s.analyticsCSV)
	}
	if s.exports != nil {
		admin.GET("/exports/appointments.csv", s.exportAppointments)
	}
	if s.feeds != nil {
		admin.GET("/feeds", s.adminFeeds)
		admin.POST("/feeds", s.adminFeedCreate)
		admin.POST("/feeds/:id/revoke", s.adminFeedRevoke)
	}
	admin.GET("/tokens", s.adminTokens)
	admin.POST("/tokens", s.adminTokenCreate)
	admin.POST("/tokens/:id/revoke", s.adminTokenRevoke)
	admin.GET("/rules", s.rulesList)
	admin.GET("/rules/new", s.ruleNew)
	admin.POST("/rules", s.ruleCreate)
	admin.GET("/rules/:id/edit", s.ruleEdit)
	admin.POST("/rules/:id", s.ruleUpdate)
	admin.POST("/rules/:id/enable", func(c *gin.Context) { s.ruleSetEnabled(c, true) })
	admin.POST("/rules/:id/disable", func(c *gin.Context) { s.ruleSetEnabled(c, false) })
	admin.GET("/texts", s.textsList)
	admin.POST("/texts/languages", s.textsLanguages)
	admin.GET("/texts/:key", s.textEdit)
	admin.POST("/texts/:key", s.textSave)
	if s.webhooks != nil {
		admin.GET("/webhooks", s.webhooks.list)
		admin.POST("/webhooks", s.webhooks.create)
		admin.GET("/webhooks/:id", s.webhooks.show)
		admin.POST("/webhooks/:id", s.webhooks.update)
		admin.POST("/webhooks/:id/rotate", s.webhooks.rotate)
		admin.POST("/webhooks/:id/test", s.webhooks.test)
		admin.POST("/webhooks/:id/delete", s.webhooks.remove)
		admin.POST("/webhooks/:id/deliveries/:delivery/resend", s.webhooks.resend)
	}
	if s.smscx != nil {
		admin.GET("/smscx", s.smscx.settings)
		admin.POST("/smscx/test", s.smscx.testSMS)
	}

	// Everything else: the API answers in JSON, pages with the site's
	// error page (in the visitor's session, so the logged-in chrome shows).
	e.NoRoute(func(c *gin.Context) {
		if s.api != nil && strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.api.NotFound(c)
			c.Abort()
			return
		}
		s.session(c)
	}, s.notFound)
	e.NoMethod(func(c *gin.Context) {
		if s.api != nil && strings.HasPrefix(c.Request.URL.Path, "/api/") {
			s.api.MethodNotAllowed(c)
			c.Abort()
			return
		}
		s.errorPage(c, http.StatusMethodNotAllowed, "Method not allowed", "")
	})
}
