package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// link makes an absolute URL when a base URL is configured.
func (s *Server) link(c *fiber.Ctx, path string) string {
	if s.cfg.BaseURL != "" {
		return strings.TrimRight(s.cfg.BaseURL, "/") + path
	}
	return c.BaseURL() + path
}

func (s *Server) apiSurveys(c *fiber.Ctx) error {
	defs, err := s.store.Surveys(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(defs)
}

func (s *Server) apiSurvey(c *fiber.Ctx) error {
	def, err := s.store.Survey(c.UserContext(), c.Params("slug"))
	if err != nil {
		if se := storageError(err, "survey"); se != nil {
			return se
		}
		return err
	}
	return c.JSON(def)
}

func (s *Server) saveSurvey(c *fiber.Ctx, slug string, update bool) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	var def survey.Survey
	if err := decodeJSON(c.Body(), &def); err != nil {
		return err
	}
	if update {
		if def.Slug != "" && def.Slug != slug {
			return errInvalid(map[string]string{"slug": "does not match the URL"})
		}
		def.Slug = slug
	}
	if f := def.Check(); len(f) > 0 {
		return errInvalid(f)
	}
	p := principal(c)
	saved, err := s.store.SaveSurvey(c.UserContext(), def, p.Actor(), update)
	if err != nil {
		if se := storageError(err, "survey"); se != nil {
			return se
		}
		return err
	}
	s.forgetSurvey(saved.Slug)
	s.store.Audit(c.UserContext(), p.Actor(), "survey.save", saved.Slug, map[string]int{"version": saved.Version})
	status := fiber.StatusCreated
	if update {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(saved)
}

func (s *Server) apiCreateSurvey(c *fiber.Ctx) error { return s.saveSurvey(c, "", false) }

func (s *Server) apiUpdateSurvey(c *fiber.Ctx) error {
	return s.saveSurvey(c, strings.Clone(c.Params("slug")), true)
}

type invitationBody struct {
	Survey         string `json:"survey"`
	Site           string `json:"site"`
	Department     string `json:"department"`
	Provider       string `json:"provider"`
	VisitDate      string `json:"visit_date"`
	Count          int    `json:"count"`
	ExpiresInHours int    `json:"expires_in_hours"`
}

// apiCreateInvitations is POST /api/v1/invitations: single-use links.
func (s *Server) apiCreateInvitations(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	b := invitationBody{Count: 1, ExpiresInHours: 72}
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	ctx := c.UserContext()
	p := principal(c)
	// Refuse another site's manager before validating, so that the field
	// messages tell them nothing about a site they may not see.
	if b.Site != "" && !p.CanSeeSite(b.Site) {
		return errStatus(fiber.StatusForbidden, "you may not invite patients for this site")
	}
	f := map[string]string{}
	if b.Count < 1 || b.Count > 1000 {
		f["count"] = "must be between 1 and 1000"
	}
	if b.ExpiresInHours < 1 || b.ExpiresInHours > 24*90 {
		f["expires_in_hours"] = "must be between 1 and 2160"
	}
	if b.VisitDate != "" {
		if _, err := time.Parse(time.DateOnly, b.VisitDate); err != nil {
			f["visit_date"] = "must be a date like 2026-03-31"
		}
	}
	if _, err := s.survey(ctx, b.Survey); err != nil {
		f["survey"] = "unknown survey"
	}
	site, err := s.site(ctx, b.Site)
	if err != nil {
		f["site"] = "unknown site"
	} else {
		if b.Department != "" && !site.HasDepartment(b.Department) {
			f["department"] = "is not a department of this site"
		}
		if b.Provider != "" && !site.HasProvider(b.Provider) {
			f["provider"] = "is not a provider of this site"
		}
	}
	if len(f) > 0 {
		return errInvalid(f)
	}
	expires := s.now().Add(time.Duration(b.ExpiresInHours) * time.Hour)
	invs := make([]storage.Invitation, b.Count)
	out := make([]fiber.Map, b.Count)
	for i := range invs {
		tok, hash := secure.NewToken("")
		invs[i] = storage.Invitation{TokenHash: hash, Survey: b.Survey, Site: b.Site, Department: b.Department,
			Provider: b.Provider, VisitDate: b.VisitDate, ExpiresAt: expires.UnixMilli(), CreatedBy: p.Actor()}
		out[i] = fiber.Map{"token": tok, "url": s.link(c, "/s/"+tok), "expires_at": expires.UTC().Format(time.RFC3339)}
	}
	if err := s.store.CreateInvitations(ctx, invs); err != nil {
		return err
	}
	s.store.Audit(ctx, p.Actor(), "invitations.create", b.Site, map[string]any{"survey": b.Survey, "count": b.Count})
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"invitations": out})
}

type deviceBody struct {
	Site string `json:"site"`
	Name string `json:"name"`
}

// apiCreateDevice is POST /api/v1/devices: registers a kiosk.
func (s *Server) apiCreateDevice(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	var b deviceBody
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	f := map[string]string{}
	if _, err := s.site(c.UserContext(), b.Site); err != nil {
		f["site"] = "unknown site"
	}
	if n := strings.TrimSpace(b.Name); n == "" || len(n) > 100 {
		f["name"] = "is required (100 characters at most)"
	}
	if len(f) > 0 {
		return errInvalid(f)
	}
	key, hash := secure.NewToken("")
	d := &storage.Device{ID: uuid.NewString(), Site: b.Site, Name: strings.TrimSpace(b.Name), KeyHash: hash}
	if err := s.store.CreateDevice(c.UserContext(), d); err != nil {
		return err
	}
	p := principal(c)
	s.store.Audit(c.UserContext(), p.Actor(), "device.create", d.ID, map[string]string{"site": d.Site})
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": d.ID, "key": key, "url": s.link(c, "/kiosk/"+key)})
}

// apiRevokeDevice is DELETE /api/v1/devices/{id}.
func (s *Server) apiRevokeDevice(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	if err := s.store.RevokeDevice(c.UserContext(), id); err != nil {
		if se := storageError(err, "device"); se != nil {
			return se
		}
		return err
	}
	s.store.Audit(c.UserContext(), principal(c).Actor(), "device.revoke", id, nil)
	return c.SendStatus(fiber.StatusNoContent)
}

// apiSites is GET /api/v1/sites; managers see their own sites.
func (s *Server) apiSites(c *fiber.Ctx) error {
	p := principal(c)
	var only []string
	if p.Role == storage.RoleManager {
		only = p.Sites
	}
	sites, err := s.store.Sites(c.UserContext(), only)
	if err != nil {
		return err
	}
	type siteOut struct {
		Slug        string               `json:"slug"`
		Name        string               `json:"name"`
		TimeZone    string               `json:"time_zone"`
		Departments []storage.Department `json:"departments"`
		Providers   []storage.Provider   `json:"providers"`
	}
	out := make([]siteOut, 0, len(sites))
	for _, st := range sites {
		if !p.CanSeeSite(st.Slug) {
			continue
		}
		ds, ps := st.Departments, st.Providers
		if ds == nil {
			ds = []storage.Department{}
		}
		if ps == nil {
			ps = []storage.Provider{}
		}
		out = append(out, siteOut{st.Slug, st.Name, st.TimeZone, ds, ps})
	}
	return c.JSON(out)
}

// apiGetResponse is GET /api/v1/responses/{id}.
func (s *Server) apiGetResponse(c *fiber.Ctx) error {
	r, err := s.store.ResponseByID(c.UserContext(), strings.Clone(c.Params("id")))
	if errors.Is(err, storage.ErrNotFound) {
		return errStatus(fiber.StatusNotFound, "response not found")
	}
	if err != nil {
		return err
	}
	site, err := s.site(c.UserContext(), r.Site)
	if err != nil {
		return err
	}
	s.store.Audit(c.UserContext(), principal(c).Actor(), "response.read", r.ID, map[string]int{"rows": 1})
	return c.JSON(r.JSON(site.Location()))
}
