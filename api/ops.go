package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz is false while the database is unreachable, and from the moment a
// graceful stop begins, so that a load balancer sends patients elsewhere.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.store.WriterStats().Closed {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "shutting down"})
	}
	if err := s.store.Ping(c.UserContext()); err != nil {
		s.log.Warn("not ready", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "database unreachable"})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// staticFile serves embedded assets; the hash in the URL lets browsers keep
// them forever.
func (s *Server) staticFile(c *fiber.Ctx) error {
	p := strings.Clone(c.Params("*"))
	f, ok := s.assets[p]
	if !ok {
		return errStatus(fiber.StatusNotFound, "not found")
	}
	if c.Params("hash") == f.Hash {
		c.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Set("Cache-Control", "no-cache")
	}
	c.Set(fiber.HeaderContentType, f.Type)
	return c.Send(f.Data)
}

func (s *Server) opsRoutes(app *fiber.App) {}
