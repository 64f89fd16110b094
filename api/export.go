package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/export"
	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

func (s *Server) exportRoutes(app *fiber.App) {
	v1 := "/api/v1"
	s.handle(app, "GET", v1+"/export.csv", permQuality, s.apiExportCSV)
	s.handle(app, "GET", v1+"/responses", permQuality, s.apiListResponses)
	s.handle(app, "GET", v1+"/comments", permQuality, s.apiListComments)
	s.handle(app, "GET", "/export", permQualityPage, s.exportPage)
	s.handle(app, "GET", "/export/download", permQualityPage, s.exportDownload)
	s.handle(app, "POST", "/export/download", permQualityPage, s.exportDownload)
	s.handle(app, "GET", "/admin/audit", permAdminPage, s.auditPage)
	s.handle(app, "GET", "/admin/audit.csv", permAdminPage, s.auditCSV)
	s.handle(app, "GET", v1+"/audit", permAdmin, s.apiAudit)
}

var (
	exportSlugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	exportChans  = []string{survey.ChannelLink, survey.ChannelKiosk, survey.ChannelInvite, survey.ChannelSuggestion}
)

// parseResponseFilter reads the dashboard's filter parameters (query string
// or form): from/to dates, or a period preset as the dashboard links carry
// it; no period means all time. Values are cloned: streaming handlers use
// them after Fiber has recycled the request.
func (s *Server) parseResponseFilter(c *fiber.Ctx) (storage.ResponseFilter, error) {
	v := func(k string) string { return strings.Clone(strings.TrimSpace(c.FormValue(k))) }
	f := storage.ResponseFilter{FromDay: v("from"), ToDay: v("to"), Site: v("site"), Department: v("department"),
		Provider: v("provider"), Survey: v("survey"), Channel: v("channel")}
	bad := map[string]string{}
	for name, val := range map[string]string{"site": f.Site, "department": f.Department, "provider": f.Provider, "survey": f.Survey} {
		if val != "" && !exportSlugRE.MatchString(val) {
			bad[name] = "is not a valid name"
		}
	}
	if f.Channel != "" && !slices.Contains(exportChans, f.Channel) {
		bad["channel"] = "must be link, kiosk, invite or suggestion"
	}
	period := v("period")
	if period != "" && period != string(stats.Custom) {
		loc := time.UTC
		if f.Site != "" {
			if site, err := s.site(c.UserContext(), f.Site); err == nil {
				loc = site.Location()
			}
		}
		p, err := stats.ResolvePeriod(stats.Preset(period), s.now(), loc, time.Time{}, time.Time{})
		if err != nil {
			bad["period"] = "must be 7d, 30d, 90d, 12m or custom"
		} else {
			f.FromDay, f.ToDay = p.From.Format(time.DateOnly), p.To.AddDate(0, 0, -1).Format(time.DateOnly)
		}
	}
	for name, val := range map[string]string{"from": f.FromDay, "to": f.ToDay} {
		if _, err := time.Parse(time.DateOnly, val); val != "" && err != nil {
			bad[name] = "must be a date like 2026-03-01"
		}
	}
	if f.FromDay != "" && f.ToDay != "" && f.ToDay < f.FromDay {
		bad["to"] = "must be on or after from"
	}
	if len(bad) > 0 {
		return f, errInvalid(bad)
	}
	if f.Site != "" {
		if !principal(c).CanSeeSite(f.Site) {
			return f, errStatus(fiber.StatusForbidden, "you may not see this site's feedback")
		}
		if _, err := s.site(c.UserContext(), f.Site); errors.Is(err, storage.ErrNotFound) {
			return f, errInvalid(map[string]string{"site": "unknown site"})
		} else if err != nil {
			return f, err
		}
	}
	return f, nil
}

func formFlag(c *fiber.Ctx, k string) (set, on bool) {
	switch strings.ToLower(c.FormValue(k)) {
	case "":
		return false, false
	case "1", "true", "yes", "on":
		return true, true
	}
	return true, false
}

// exportOptions reads an export request. redactDefault applies when the
// request does not say (on for the quality role in the UI).
func (s *Server) exportOptions(c *fiber.Ctx, redactDefault bool) (export.Options, error) {
	f, err := s.parseResponseFilter(c)
	if err != nil {
		return export.Options{}, err
	}
	o := export.Options{Format: strings.Clone(c.FormValue("format", export.FormatResponses)), Filter: f}
	if !export.ValidFormat(o.Format) {
		return o, errInvalid(map[string]string{"format": "must be responses or comments"})
	}
	_, o.BOM = formFlag(c, "bom")
	set, on := formFlag(c, "redact")
	o.Redact = on || (!set && redactDefault)
	if _, o.IncludeContact = formFlag(c, "include_contact"); o.IncludeContact {
		if err := s.allowContact(c, o.Format); err != nil {
			return o, err
		}
		o.Keys = s.keys
	}
	return o, nil
}

// allowContact lets contact details out only to an admin who asks for them;
// from a browser session the request must carry the CSRF token too, so that
// a link on another site cannot make an admin's browser fetch them.
func (s *Server) allowContact(c *fiber.Ctx, format string) error {
	p := principal(c)
	if p.Role != storage.RoleAdmin {
		return errStatus(fiber.StatusForbidden, "only an admin may export contact details")
	}
	if format != export.FormatResponses {
		return errInvalid(map[string]string{"include_contact": "contact details come with the responses format only"})
	}
	if p.Kind == "user" {
		tok := c.Get("X-CSRF-Token")
		if tok == "" {
			tok = c.FormValue("csrf")
		}
		if tok == "" || !s.keys.VerifyCSRF(p.SessionHash, tok) {
			return errStatus(fiber.StatusForbidden, "missing or invalid CSRF token: reload the export page and try again")
		}
	}
	return nil
}

// apiExportCSV is GET /api/v1/export.csv: the same file as `carevoice export`.
func (s *Server) apiExportCSV(c *fiber.Ctx) error {
	o, err := s.exportOptions(c, false)
	if err != nil {
		return err
	}
	return s.streamExport(c, o, "api")
}

// exportDownload is the Export page's download (GET for a bookmarked link,
// POST from the form).
func (s *Server) exportDownload(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	o, err := s.exportOptions(c, principal(c).Role == storage.RoleQuality)
	if err != nil {
		return err
	}
	return s.streamExport(c, o, "page")
}

// streamWriteTimeout bounds how long one write to a stalled client may take.
// The server's WriteTimeout covers a whole response, which a large export
// would outlive, so each write pushes the connection's deadline on.
const streamWriteTimeout = 60 * time.Second

// streamWriter is the export's view of the response body: every write is
// flushed to the client at once, so a client that hung up is noticed at the
// next page and the query stops.
type streamWriter struct {
	w    *bufio.Writer
	conn net.Conn
	last time.Time
	err  error
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	if now := time.Now(); sw.conn != nil && now.Sub(sw.last) > time.Second {
		sw.conn.SetWriteDeadline(now.Add(streamWriteTimeout))
		sw.last = now
	}
	n, err := sw.w.Write(p)
	if err == nil {
		err = sw.w.Flush()
	}
	if err != nil {
		sw.err = err
	}
	return n, err
}

// streamExport sends the export as it is read, then records it in the audit
// log with the row count.
func (s *Server) streamExport(c *fiber.Ctx, o export.Options, via string) error {
	actor := principal(c).Actor()
	name := fmt.Sprintf("carevoice-%s-%s.csv", o.Format, s.now().UTC().Format("20060102-150405"))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	conn := c.Context().Conn()
	reqID := strings.Clone(requestID(c))
	// The writer runs after the handler has returned, so it owns its context:
	// a write error (the client went away) ends the export and its query.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sw := &streamWriter{w: w, conn: conn}
		start := time.Now()
		res, err := export.Write(ctx, s.store, sw, o)
		complete := err == nil
		detail := exportAudit(o, res, via, complete)
		if aerr := s.store.Audit(context.Background(), actor, "export.csv", o.Format, detail); aerr != nil {
			s.log.Error("export: audit", "request_id", reqID, "err", aerr)
		}
		switch {
		case err == nil:
			s.log.Info("export", "request_id", reqID, "format", o.Format, "rows", res.Rows, "ms", time.Since(start).Milliseconds())
		case sw.err != nil:
			s.log.Info("export stopped: client went away", "request_id", reqID, "rows", res.Rows)
		default:
			// The status line has gone; closing the connection makes the
			// client see a broken download instead of a short file that
			// looks complete.
			s.log.Error("export failed", "request_id", reqID, "rows", res.Rows, "err", err)
			if conn != nil {
				conn.Close()
			}
		}
	})
	return nil
}

// exportAudit is the audit record of an export (never the data itself).
func exportAudit(o export.Options, res export.Result, via string, complete bool) map[string]any {
	d := map[string]any{"format": o.Format, "filters": o.Filter.Map(), "rows": res.Rows, "via": via,
		"bom": o.BOM, "redact": o.Redact, "include_contact": o.IncludeContact, "complete": complete}
	if o.Redact {
		d["masks"] = res.Masks.Map()
	}
	if o.IncludeContact {
		d["contacts"] = res.Contacts
		d["contact_errors"] = res.ContactErrors
	}
	return d
}

// Reporting API.

const (
	listDefault = 100
	listMax     = 1000
)

func listLimit(c *fiber.Ctx) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return listDefault, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > listMax {
		return 0, errInvalid(map[string]string{"limit": fmt.Sprintf("must be a whole number from 1 to %d", listMax)})
	}
	return n, nil
}

// apiListResponses is GET /api/v1/responses: stored responses in the order
// they were stored, a page at a time. The cursor is the last response's
// sequence number, so responses stored while a client pages through appear
// after the page it is on, never inside one it has read.
func (s *Server) apiListResponses(c *fiber.Ctx) error {
	f, err := s.parseResponseFilter(c)
	if err != nil {
		return err
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	var after int64
	if v := c.Query("cursor"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return errInvalid(map[string]string{"cursor": "is not a cursor this API gave out"})
		}
	}
	ctx := c.UserContext()
	page, err := s.store.ResponsesPage(ctx, f, storage.PageOptions{After: after, Limit: limit + 1, Analysis: true})
	if err != nil {
		return err
	}
	more := len(page) > limit
	if more {
		page = page[:limit]
	}
	out := make([]storage.ResponseJSON, 0, len(page))
	for i := range page {
		loc := time.UTC
		if site, err := s.site(ctx, page[i].Site); err == nil {
			loc = site.Location()
		}
		out = append(out, page[i].JSON(loc))
	}
	// next_cursor is given even on the last page, so that a client can
	// ask again later for what was stored since.
	next := c.Query("cursor")
	if len(page) > 0 {
		next = strconv.FormatInt(page[len(page)-1].Seq, 10)
	}
	s.store.Audit(ctx, principal(c).Actor(), "responses.list", "", map[string]any{"filters": f.Map(), "rows": len(out),
		"cursor": c.Query("cursor"), "format": "json"})
	return c.JSON(fiber.Map{"responses": out, "next_cursor": nullable(next), "has_more": more})
}

// commentJSON is one comment in GET /api/v1/comments.
type commentJSON struct {
	ResponseID  string                `json:"response_id"`
	Survey      string                `json:"survey"`
	Site        string                `json:"site"`
	Department  string                `json:"department,omitempty"`
	Provider    string                `json:"provider,omitempty"`
	Channel     string                `json:"channel"`
	Lang        string                `json:"lang"`
	SubmittedAt string                `json:"submitted_at"`
	Question    string                `json:"question"`
	Intent      string                `json:"intent"`
	Text        string                `json:"text"`
	Analysis    *storage.AnalysisJSON `json:"analysis,omitempty"`
}

// apiListComments is GET /api/v1/comments: free-text answers with their
// analysis, in stored order, cursor-paged like /responses; redact=1 masks
// personal details.
func (s *Server) apiListComments(c *fiber.Ctx) error {
	f, err := s.parseResponseFilter(c)
	if err != nil {
		return err
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	var after storage.CommentKey
	if v := c.Query("cursor"); v != "" {
		a, q, ok := strings.Cut(v, "-")
		seq, err := strconv.ParseInt(a, 10, 64)
		if !ok || err != nil || seq < 0 || !exportSlugRE.MatchString(q) {
			return errInvalid(map[string]string{"cursor": "is not a cursor this API gave out"})
		}
		after = storage.CommentKey{Seq: seq, Question: strings.Clone(q)}
	}
	_, redactOn := formFlag(c, "redact")
	ctx := c.UserContext()
	page, err := s.store.CommentsPage(ctx, f, after, limit+1)
	if err != nil {
		return err
	}
	more := len(page) > limit
	if more {
		page = page[:limit]
	}
	var masks map[string]int
	if redactOn {
		masks = export.RedactComments(ctx, nil, page).Map()
	}
	out := make([]commentJSON, 0, len(page))
	for _, cm := range page {
		loc := time.UTC
		if site, err := s.site(ctx, cm.Site); err == nil {
			loc = site.Location()
		}
		j := commentJSON{ResponseID: cm.ResponseID, Survey: cm.Survey, Site: cm.Site, Department: cm.Department,
			Provider: cm.Provider, Channel: cm.Channel, Lang: cm.Lang, SubmittedAt: export.Time(cm.SubmittedAt, loc),
			Question: cm.Question, Intent: cm.Intent, Text: cm.Text}
		if a := cm.Analysis; a != nil {
			j.Analysis = &storage.AnalysisJSON{Sentiment: a.Sentiment, Score: a.Score, Themes: a.Themes, Version: a.Version}
		}
		out = append(out, j)
	}
	next := c.Query("cursor")
	if len(page) > 0 {
		last := page[len(page)-1]
		next = fmt.Sprintf("%d-%s", last.Seq, last.Question)
	}
	d := map[string]any{"filters": f.Map(), "rows": len(out), "cursor": c.Query("cursor"), "format": "json", "redact": redactOn}
	if redactOn {
		d["masks"] = masks
	}
	s.store.Audit(ctx, principal(c).Actor(), "comments.list", "", d)
	return c.JSON(fiber.Map{"comments": out, "next_cursor": nullable(next), "has_more": more})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
