package web

import (
	"github.com/gin-gonic/gin"
)

// routes registers every browser route, grouped by trust: public pages,
// pages for any logged-in user, and admin pages. The token API, webhooks and
// operations endpoints register themselves on Engine().
func (s *Server) routes() {
	e := s.engine
	e.GET("/static/*file", gin.WrapH(s.assets))
	e.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(301, "/static/favicon.svg") })

	pub := e.Group("/", s.checkCSRF)
	pub.GET("/login", s.loginForm)
	pub.POST("/login", s.login)

	staff := e.Group("/", s.requireUser, s.checkCSRF)
	staff.POST("/logout", s.logout)
	// Feature routes for any logged-in user (one line per feature file).
	s.patientRoutes(staff)
	s.appointmentRoutes(staff)
	s.upcomingRoutes(staff)
	s.dashboardRoutes(staff)

	admin := e.Group("/admin", s.requireUser, s.requireAdmin, s.checkCSRF)
	// Feature routes for admins only (one line per feature file).
	s.tokenRoutes(admin)
	s.adminRoutes(admin)
	s.ruleRoutes(admin)
	_ = admin
	// The SMS.CX settings page (admin) and the simulator's reply form (staff)
	// need the gateway client: app/server registers them with EnableSMSCX.
}
