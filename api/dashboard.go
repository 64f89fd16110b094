package api

import "github.com/gofiber/fiber/v2"

func (s *Server) dashboardRoutes(app *fiber.App) {}
