package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/export"
	"github.com/carevoice/carevoice/storage"
)

// exportPageData is what export.html shows.
type exportPageData struct {
	Sites         []storage.Site
	Surveys       []string
	Channels      []string
	Filter        storage.ResponseFilter
	Format        string
	Redact        bool
	IsAdmin       bool
	Error         string
	FieldErrors   map[string]string
	RedactDefault bool
}

// exportPage is GET /export: the filter form. Its query string is the
// dashboard's, so "export what I am looking at" is a link.
func (s *Server) exportPage(c *fiber.Ctx) error {
	p := principal(c)
	ctx := c.UserContext()
	d := &exportPageData{Channels: exportChans, Format: c.Query("format", export.FormatResponses), IsAdmin: p.Role == storage.RoleAdmin,
		RedactDefault: p.Role == storage.RoleQuality}
	d.Redact = d.RedactDefault
	if set, on := formFlag(c, "redact"); set {
		d.Redact = on
	}
	status := fiber.StatusOK
	f, err := s.parseResponseFilter(c)
	if e, ok := err.(*Error); ok {
		status, d.Error, d.FieldErrors = e.Status, e.Message, e.Fields
	} else if err != nil {
		return err
	}
	d.Filter = f
	sites, err := s.store.Sites(ctx, nil)
	if err != nil {
		return err
	}
	d.Sites = sites
	defs, err := s.store.Surveys(ctx)
	if err != nil {
		return err
	}
	for _, def := range defs {
		d.Surveys = append(d.Surveys, def.Slug)
	}
	pg := s.page(c, "en", "Export", d)
	pg.Nav = "export"
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, status, "export", pg)
}

// auditRow is one audit entry as the page shows it.
type auditRow struct {
	storage.AuditEntry
	When string
}

type auditPageData struct {
	Rows   []auditRow
	Action string
	Actor  string
	Next   string // link to older entries
	CSV    string // link to the CSV of the same selection
}

func auditQuery(c *fiber.Ctx) (storage.AuditQuery, error) {
	q := storage.AuditQuery{Action: strings.Clone(strings.TrimSpace(c.Query("action"))), Actor: strings.Clone(strings.TrimSpace(c.Query("actor")))}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return q, errInvalid(map[string]string{"before": "is not an entry id"})
		}
		q.Before = n
	}
	if len(q.Action) > 64 || len(q.Actor) > 320 {
		return q, errInvalid(map[string]string{"action": "is too long"})
	}
	return q, nil
}

// auditPage is GET /admin/audit: the log, newest first, 100 a page.
func (s *Server) auditPage(c *fiber.Ctx) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	q.Limit = 100
	es, err := s.store.AuditSearch(c.UserContext(), q)
	if err != nil {
		return err
	}
	d := &auditPageData{Action: q.Action, Actor: q.Actor}
	for _, e := range es {
		d.Rows = append(d.Rows, auditRow{e, time.UnixMilli(e.At).UTC().Format("2006-01-02 15:04:05Z")})
	}
	link := func(path string, before int64) string {
		v := url.Values{}
		if q.Action != "" {
			v.Set("action", q.Action)
		}
		if q.Actor != "" {
			v.Set("actor", q.Actor)
		}
		if before > 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if len(es) == q.Limit {
		d.Next = link("/admin/audit", es[len(es)-1].ID)
	}
	d.CSV = link("/admin/audit.csv", 0)
	pg := s.page(c, "en", "Audit log", d)
	pg.Nav = "admin"
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, fiber.StatusOK, "audit", pg)
}

// auditCSV is GET /admin/audit.csv: the selected log as CSV, streamed; the
// download is itself audited.
func (s *Server) auditCSV(c *fiber.Ctx) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	_, bom := formFlag(c, "bom")
	actor := principal(c).Actor()
	reqID := strings.Clone(requestID(c))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="carevoice-audit-`+s.now().UTC().Format("20060102-150405")+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sw := &streamWriter{w: w, conn: conn}
		rows, err := export.WriteAudit(ctx, s.store, sw, q, bom)
		s.store.Audit(context.Background(), actor, "audit.export", "", map[string]any{"rows": rows, "complete": err == nil,
			"filters": map[string]string{"action": q.Action, "actor": q.Actor}})
		if err != nil && sw.err == nil {
			s.log.Error("audit export failed", "request_id", reqID, "err", err)
			if conn != nil {
				conn.Close()
			}
		}
	})
	return nil
}

// auditJSON is one entry in GET /api/v1/audit.
type auditJSON struct {
	ID     int64           `json:"id"`
	At     string          `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail"`
}

// apiAudit is GET /api/v1/audit?before=&limit=&action=&actor=.
func (s *Server) apiAudit(c *fiber.Ctx) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	if q.Limit, err = listLimit(c); err != nil {
		return err
	}
	es, err := s.store.AuditSearch(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := make([]auditJSON, 0, len(es))
	for _, e := range es {
		d := json.RawMessage(e.Detail)
		if !json.Valid(d) {
			d = json.RawMessage("{}")
		}
		out = append(out, auditJSON{e.ID, time.UnixMilli(e.At).UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.Target, d})
	}
	var next *string
	if len(es) == q.Limit {
		v := strconv.FormatInt(es[len(es)-1].ID, 10)
		next = &v
	}
	return c.JSON(fiber.Map{"entries": out, "next_cursor": next})
}
