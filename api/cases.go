package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/storage"
)

func (s *Server) caseRoutes(app *fiber.App) {}

// caseFor decides, before the response is stored, whether it opens a
// follow-up case; the case is then written in the same transaction.
func (s *Server) caseFor(ctx context.Context, site *storage.Site, r *storage.NewResponse) *storage.NewCase {
	return nil
}

// afterSubmit runs once a new response is durable (alerts); it must never
// block or fail the submission.
func (s *Server) afterSubmit(r *storage.NewResponse, rec storage.Receipt) {}

// publishedActions returns the latest "You said, we did" actions of a site.
func (s *Server) publishedActions(c *fiber.Ctx, site, lang string) []string { return nil }
