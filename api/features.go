package api

import "github.com/gofiber/fiber/v2"

// featureRoutes registers the routes of each feature through s.handle, so
// every route still carries a permission from routes.go.
func (s *Server) featureRoutes(app *fiber.App) {
	s.dashboardRoutes(app) // dashboard.go
	s.exportRoutes(app)    // export.go
	s.caseRoutes(app)      // cases.go
	s.adminRoutes(app)     // admin_pages.go
	s.opsRoutes(app)       // ops.go
}
