package api

import "github.com/gofiber/fiber/v2"

func (s *Server) exportRoutes(app *fiber.App) {}
