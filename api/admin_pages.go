package api

import "github.com/gofiber/fiber/v2"

func (s *Server) adminRoutes(app *fiber.App) {}
