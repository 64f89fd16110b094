package api

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/storage"
)

// actionBody is a new "You said, we did" action.
type actionBody struct {
	Site    string `json:"site"`
	Lang    string `json:"lang"` // empty: shown in every language
	Body    string `json:"body"`
	Publish bool   `json:"publish"`
}

// maxActionLen keeps an action short enough for a kiosk screen.
const maxActionLen = 280

func (s *Server) checkAction(c *fiber.Ctx, b *actionBody) error {
	f := map[string]string{}
	b.Body = strings.TrimSpace(b.Body)
	switch n := utf8.RuneCountInString(b.Body); {
	case n == 0:
		f["body"] = "is required"
	case n > maxActionLen:
		f["body"] = "is longer than 280 characters"
	}
	if b.Lang != "" && !slicesContains(s.i18n.Languages(), b.Lang) {
		f["lang"] = "is not a patient language"
	}
	if b.Site == "" {
		f["site"] = "is required"
	}
	if len(f) > 0 {
		return errInvalid(f)
	}
	if !principal(c).CanSeeSite(b.Site) {
		return errStatus(fiber.StatusForbidden, "you may not publish for this site")
	}
	if _, err := s.site(c.UserContext(), b.Site); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errInvalid(map[string]string{"site": "unknown site"})
		}
		return err
	}
	return nil
}

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) createAction(c *fiber.Ctx, b actionBody) (*storage.Action, error) {
	if err := s.checkAction(c, &b); err != nil {
		return nil, err
	}
	p := principal(c)
	a := &storage.Action{Site: b.Site, Lang: b.Lang, Body: b.Body, Author: p.Actor()}
	if err := s.store.CreateAction(c.UserContext(), a, b.Publish); err != nil {
		return nil, err
	}
	s.forgetActions()
	s.store.Audit(c.UserContext(), p.Actor(), "action.create", strconv.FormatInt(a.ID, 10),
		map[string]any{"site": a.Site, "published": b.Publish})
	return a, nil
}

// setActionState publishes or withdraws an action of a site the caller sees.
func (s *Server) setActionState(c *fiber.Ctx, id int64, publish bool) (*storage.Action, error) {
	ctx := c.UserContext()
	a, err := s.store.ActionByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errStatus(fiber.StatusNotFound, "action not found")
	}
	if err != nil {
		return nil, err
	}
	p := principal(c)
	if !p.CanSeeSite(a.Site) {
		return nil, errStatus(fiber.StatusForbidden, "this action belongs to a site you may not see")
	}
	if err := s.store.SetActionState(ctx, id, publish); err != nil {
		return nil, err
	}
	s.forgetActions()
	verb := "action.withdraw"
	if publish {
		verb = "action.publish"
	}
	s.store.Audit(ctx, p.Actor(), verb, strconv.FormatInt(id, 10), map[string]string{"site": a.Site})
	return s.store.ActionByID(ctx, id)
}

// apiActions is GET /api/v1/actions: the caller's sites' actions, drafts
// and withdrawn ones included.
func (s *Server) apiActions(c *fiber.Ctx) error {
	p := principal(c)
	sites := p.Sites
	if site := c.Query("site"); site != "" {
		if !p.CanSeeSite(site) {
			return errStatus(fiber.StatusForbidden, "you may not see this site")
		}
		sites = []string{site}
	}
	as, err := s.store.Actions(c.UserContext(), sites, 200)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"actions": as})
}

// apiCreateAction is POST /api/v1/actions.
func (s *Server) apiCreateAction(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	var b actionBody
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	a, err := s.createAction(c, b)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

// apiPatchAction is PATCH /api/v1/actions/{id} with {"published": bool}.
func (s *Server) apiPatchAction(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errStatus(fiber.StatusNotFound, "action not found")
	}
	var b struct {
		Published *bool `json:"published"`
	}
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	if b.Published == nil {
		return errInvalid(map[string]string{"published": "is required (true publishes, false withdraws)"})
	}
	a, err := s.setActionState(c, id, *b.Published)
	if err != nil {
		return err
	}
	return c.JSON(a)
}
