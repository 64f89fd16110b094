package api

import (
	"github.com/gofiber/fiber/v2"
)

// Permission says who may call a route. Every route is registered through
// s.handle with one, so the whole permission table is this file; a test walks
// Fiber's route list and fails on any route without an entry.
type Permission struct {
	Public bool     // anyone, including patients
	Kiosk  bool     // a kiosk device key (X-Kiosk-Key) also passes
	Roles  []string // staff roles that pass (admin always does)
	Page   bool     // HTML: send people without a session to the login page
	// Siteless lets a manager without sites through too (their own
	// account page); every other staff route refuses them (guard).
	Siteless bool
}

var (
	permPublic      = Permission{Public: true}
	permAdmin       = Permission{Roles: []string{"admin"}}
	permAdminPage   = Permission{Roles: []string{"admin"}, Page: true}
	permStaff       = Permission{Roles: []string{"admin", "manager", "quality"}}
	permStaffPage   = Permission{Roles: []string{"admin", "manager", "quality"}, Page: true}
	permManagers    = Permission{Roles: []string{"admin", "manager"}}
	permManagerPage = Permission{Roles: []string{"admin", "manager"}, Page: true}
	permQuality     = Permission{Roles: []string{"admin", "quality"}}
	permQualityPage = Permission{Roles: []string{"admin", "quality"}, Page: true}
	permSubmit      = Permission{Public: true, Kiosk: true}
	permAccountPage = Permission{Roles: []string{"admin", "manager", "quality"}, Page: true, Siteless: true}
)

// routes is the whole route table.
func (s *Server) routes(app *fiber.App) {
	app.Use(s.recoverPanics, s.clientAddress, s.requestMeta, s.securityHeaders, s.authenticate, s.rateLimit)

	// Operations.
	s.handle(app, "GET", "/healthz", permPublic, s.healthz)
	s.handle(app, "GET", "/readyz", permPublic, s.readyz)
	s.handle(app, "GET", "/metrics", permPublic, s.metricsHandler)
	s.handle(app, "GET", "/static/:hash/*", permPublic, s.staticFile)

	// Patient pages.
	s.handle(app, "GET", "/f/:survey", permPublic, s.linkForm)
	s.handle(app, "POST", "/f/:survey", permPublic, s.linkSubmit)
	s.handle(app, "GET", "/s/:token", permPublic, s.inviteForm)
	s.handle(app, "POST", "/s/:token", permPublic, s.inviteSubmit)
	s.handle(app, "GET", "/kiosk/:key", permPublic, s.kioskForm)
	s.handle(app, "POST", "/kiosk/:key", permPublic, s.kioskSubmit)
	s.handle(app, "GET", "/suggest/:site", permPublic, s.suggestForm)
	s.handle(app, "POST", "/suggest/:site", permPublic, s.suggestSubmit)

	// Staff pages.
	s.handle(app, "GET", "/", permPublic, s.home)
	s.handle(app, "GET", "/login", permPublic, s.loginPage)
	s.handle(app, "POST", "/login", permPublic, s.loginSubmit)
	s.handle(app, "POST", "/logout", permPublic, s.logoutSubmit)

	// JSON API.
	v1 := "/api/v1"
	s.handle(app, "POST", v1+"/responses", permSubmit, s.apiSubmit)
	s.handle(app, "GET", v1+"/responses/:id", permQuality, s.apiGetResponse)
	s.handle(app, "GET", v1+"/surveys", permPublic, s.apiSurveys)
	s.handle(app, "GET", v1+"/surveys/:slug", permPublic, s.apiSurvey)
	s.handle(app, "POST", v1+"/surveys", permAdmin, s.apiCreateSurvey)
	s.handle(app, "PUT", v1+"/surveys/:slug", permAdmin, s.apiUpdateSurvey)
	s.handle(app, "POST", v1+"/invitations", permManagers, s.apiCreateInvitations)
	s.handle(app, "POST", v1+"/devices", permAdmin, s.apiCreateDevice)
	s.handle(app, "DELETE", v1+"/devices/:id", permAdmin, s.apiRevokeDevice)
	s.handle(app, "GET", v1+"/sites", permStaff, s.apiSites)
	s.handle(app, "POST", v1+"/auth/login", permPublic, s.apiLogin)
	s.handle(app, "POST", v1+"/auth/logout", permPublic, s.apiLogout)
	s.handle(app, "POST", v1+"/tokens", permAdmin, s.apiCreateToken)

	s.featureRoutes(app)

	app.Use(func(c *fiber.Ctx) error { return errStatus(fiber.StatusNotFound, "not found") })
}

// handle registers a route with its permission.
func (s *Server) handle(app *fiber.App, method, path string, p Permission, h fiber.Handler) {
	s.perms[method+" "+path] = p
	app.Add(method, path, s.guard(p), h)
}

// PermissionFor returns the permission of a registered route (for tests).
func (s *Server) PermissionFor(method, path string) (Permission, bool) {
	p, ok := s.perms[method+" "+path]
	return p, ok
}
