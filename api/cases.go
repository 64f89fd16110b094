package api

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/alerts"
	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// closeLoop is the follow-up feature's state on the server: the alert
// dispatcher and short caches that keep the submission path and the patient
// pages off the database. The zero value is ready.
type closeLoop struct {
	mu      sync.Mutex
	alerts  *alerts.Dispatcher
	rules   map[string]cached[cases.Rules]
	actions map[string]cached[[]string]
}

// SetAlerts connects the alert dispatcher (main starts its loop). Without
// one, cases still open and show in the queue; nothing is sent.
func (s *Server) SetAlerts(d *alerts.Dispatcher) {
	s.loop.mu.Lock()
	s.loop.alerts = d
	s.loop.mu.Unlock()
}

func (s *Server) dispatcher() *alerts.Dispatcher {
	s.loop.mu.Lock()
	defer s.loop.mu.Unlock()
	return s.loop.alerts
}

// caseRules returns a site's case rules through a short cache.
func (s *Server) caseRules(ctx context.Context, site string) (cases.Rules, error) {
	s.loop.mu.Lock()
	c, ok := s.loop.rules[site]
	s.loop.mu.Unlock()
	if ok && s.now().Sub(c.at) < cacheTTL {
		return c.v, nil
	}
	r, err := s.store.CaseRules(ctx, site)
	if err != nil {
		return r, err
	}
	s.loop.mu.Lock()
	if s.loop.rules == nil {
		s.loop.rules = map[string]cached[cases.Rules]{}
	}
	s.loop.rules[site] = cached[cases.Rules]{r, s.now()}
	s.loop.mu.Unlock()
	return r, nil
}

func (s *Server) forgetCaseRules(site string) {
	s.loop.mu.Lock()
	delete(s.loop.rules, site)
	s.loop.mu.Unlock()
}

// caseFor decides, before the response is stored, whether it opens a
// follow-up case; the case is then written in the same transaction.
func (s *Server) caseFor(ctx context.Context, site *storage.Site, r *storage.NewResponse) *storage.NewCase {
	rules, err := s.caseRules(ctx, site.Slug)
	if err != nil {
		// The defaults are a safe answer: a patient's call-back request and
		// urgent comments open cases under any rules.
		s.log.Warn("case rules unavailable: using defaults", "site", site.Slug, "err", err)
		rules = cases.DefaultRules()
	}
	in := cases.Input{WantsContact: r.WantsContact, FFT: r.FFT, NPS: r.NPS}
	for _, a := range r.Answers {
		if a.Text == nil {
			continue
		}
		c := cases.Comment{Text: *a.Text}
		if a.Analysis != nil {
			c.Sentiment = a.Analysis.Sentiment
			for _, h := range a.Analysis.Themes {
				if h.Polarity != "positive" {
					c.Themes = append(c.Themes, h.ID)
				}
			}
		}
		in.Comments = append(in.Comments, c)
	}
	d := cases.Decide(rules, in)
	if !d.Open {
		return nil
	}
	due := cases.DueAt(r.SubmittedAt, site.Location(), rules)
	return &storage.NewCase{Urgent: d.Urgent, Reason: strings.Join(d.Reasons, ","), DueAt: due.UnixMilli(), Notify: rules.AlertNew}
}

// afterSubmit runs once a new response is durable (alerts); it must never
// block or fail the submission: it only hands an event to the dispatcher's
// in-memory queue.
func (s *Server) afterSubmit(r *storage.NewResponse, rec storage.Receipt) {
	k := r.Case
	if k == nil || k.ID == 0 {
		return
	}
	if k.Urgent {
		// Ids only: never the comment.
		s.log.Info("urgent case opened", "case", k.ID, "site", r.Site)
	}
	kind := ""
	switch {
	case k.Urgent:
		kind = alerts.KindUrgent
	case k.Notify:
		kind = alerts.KindNewCase
	default:
		return
	}
	s.dispatcher().Enqueue(alerts.Event{Kind: kind, CaseID: k.ID, Site: r.Site, Reasons: storage.SplitList(k.Reason),
		DueAt: time.UnixMilli(k.DueAt)})
}

// publishedActions returns the latest "You said, we did" actions of a site.
// Patient pages call it on every view, so it is cached briefly; a failure
// shows none rather than failing the page.
func (s *Server) publishedActions(c *fiber.Ctx, site, lang string) []string {
	key := site + "|" + lang
	s.loop.mu.Lock()
	v, ok := s.loop.actions[key]
	s.loop.mu.Unlock()
	if ok && s.now().Sub(v.at) < cacheTTL {
		return v.v
	}
	as, err := s.store.PublishedActions(c.UserContext(), site, lang, 3)
	if err != nil {
		s.log.Warn("published actions unavailable", "site", site, "err", err)
		return nil
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Body
	}
	s.loop.mu.Lock()
	if s.loop.actions == nil {
		s.loop.actions = map[string]cached[[]string]{}
	}
	s.loop.actions[key] = cached[[]string]{out, s.now()}
	s.loop.mu.Unlock()
	return out
}

func (s *Server) forgetActions() {
	s.loop.mu.Lock()
	s.loop.actions = nil
	s.loop.mu.Unlock()
}

func (s *Server) caseRoutes(app *fiber.App) {
	v1 := "/api/v1"
	s.handle(app, "GET", v1+"/cases", permManagers, s.apiCases)
	s.handle(app, "GET", v1+"/cases/reports", permManagers, s.apiCaseReports)
	s.handle(app, "GET", v1+"/cases/:id", permManagers, s.apiCase)
	s.handle(app, "PATCH", v1+"/cases/:id", permManagers, s.apiPatchCase)
	s.handle(app, "GET", v1+"/sites/:site/case-rules", permManagers, s.apiCaseRules)
	s.handle(app, "PUT", v1+"/sites/:site/case-rules", permAdmin, s.apiPutCaseRules)
	s.handle(app, "GET", v1+"/actions", permManagers, s.apiActions)
	s.handle(app, "POST", v1+"/actions", permManagers, s.apiCreateAction)
	s.handle(app, "PATCH", v1+"/actions/:id", permManagers, s.apiPatchAction)
	s.handle(app, "GET", v1+"/alerts/deliveries", permAdmin, s.apiDeliveries)

	// Static paths first: Fiber matches in order and /cases/:id would
	// swallow them.
	s.handle(app, "GET", "/cases", permManagerPage, s.casesPage)
	s.handle(app, "GET", "/cases/reports", permManagerPage, s.caseReportsPage)
	s.handle(app, "GET", "/cases/actions", permManagerPage, s.actionsPage)
	s.handle(app, "POST", "/cases/actions", permManagerPage, s.actionsSubmit)
	s.handle(app, "POST", "/cases/actions/:id", permManagerPage, s.actionStateSubmit)
	s.handle(app, "GET", "/cases/rules", permAdminPage, s.rulesPage)
	s.handle(app, "POST", "/cases/rules", permAdminPage, s.rulesSubmit)
	s.handle(app, "GET", "/cases/:id", permManagerPage, s.casePage)
	s.handle(app, "POST", "/cases/:id", permManagerPage, s.caseSubmit)
	s.handle(app, "POST", "/cases/:id/contact", permManagerPage, s.caseContactSubmit)
}

// caseJSON is the API shape of a case.
type caseJSON struct {
	ID          int64                 `json:"id"`
	ResponseID  string                `json:"response_id"`
	Site        string                `json:"site"`
	Status      string                `json:"status"`
	Urgent      bool                  `json:"urgent"`
	Reason      string                `json:"reason"`
	Reasons     []string              `json:"reasons"`
	Assignee    string                `json:"assignee"`
	OpenedAt    string                `json:"opened_at"`
	DueAt       string                `json:"due_at"`
	Overdue     bool                  `json:"overdue"`
	ContactedAt string                `json:"contacted_at,omitempty"`
	ClosedAt    string                `json:"closed_at,omitempty"`
	CloseReason string                `json:"close_reason,omitempty"`
	Outcome     string                `json:"outcome,omitempty"`
	Notes       []storage.CaseNote    `json:"notes,omitempty"`
	Response    *storage.ResponseJSON `json:"response,omitempty"`
	// Contact is present only for admins and the assigned manager; each
	// view is audited ("contact.view").
	Contact *survey.Contact `json:"contact,omitempty"`
}

func (s *Server) siteLoc(ctx context.Context, slug string) *time.Location {
	if site, err := s.site(ctx, slug); err == nil {
		return site.Location()
	}
	return time.UTC
}

func (s *Server) toCaseJSON(k *storage.Case, loc *time.Location) caseJSON {
	f := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	j := caseJSON{ID: k.ID, ResponseID: k.ResponseID, Site: k.Site, Status: k.Status, Urgent: k.Urgent, Reason: k.Reason(),
		Reasons: k.Reasons, Assignee: k.Assignee, OpenedAt: f(k.OpenedAt), DueAt: f(k.DueAt),
		Overdue: cases.Overdue(k.Status, k.DueAt, s.now()), CloseReason: k.CloseReason, Outcome: k.Outcome, Notes: k.Notes}
	if k.ContactedAt != nil {
		j.ContactedAt = f(*k.ContactedAt)
	}
	if k.ClosedAt != nil {
		j.ClosedAt = f(*k.ClosedAt)
	}
	return j
}

// caseFilter reads the queue's query parameters for a principal: a manager
// sees only their sites, whatever the query asks.
func caseFilter(c *fiber.Ctx, p *Principal) (storage.CaseFilter, error) {
	f := storage.CaseFilter{Sites: p.Sites, Urgent: c.Query("urgent") == "1" || c.Query("urgent") == "true"}
	if site := c.Query("site"); site != "" {
		if !p.CanSeeSite(site) {
			return f, errStatus(fiber.StatusForbidden, "you may not see this site's cases")
		}
		f.Sites = []string{site}
	}
	switch st := c.Query("status", "open"); st {
	case "open":
		f.Statuses = []string{cases.StatusNew, cases.StatusContacted}
	case "all":
	default:
		for _, v := range strings.Split(st, ",") {
			if !cases.ValidStatus(v) {
				return f, errInvalid(map[string]string{"status": "is open, all, or a list of new, contacted, resolved, closed"})
			}
			f.Statuses = append(f.Statuses, v)
		}
	}
	if c.Query("mine") == "1" && p.Email != "" {
		f.Assignee = p.Email
	}
	if n, err := strconv.Atoi(c.Query("limit", "500")); err == nil {
		f.Limit = n
	}
	return f, nil
}

// apiCases is GET /api/v1/cases: the queue, soonest due first.
func (s *Server) apiCases(c *fiber.Ctx) error {
	p := principal(c)
	f, err := caseFilter(c, p)
	if err != nil {
		return err
	}
	ks, err := s.store.Cases(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := make([]caseJSON, len(ks))
	for i := range ks {
		out[i] = s.toCaseJSON(&ks[i], s.siteLoc(c.UserContext(), ks[i].Site))
	}
	return c.JSON(fiber.Map{"cases": out})
}

// loadCase reads a case the principal may see: 404 for none, 403 for a
// case at a site that is not theirs.
func (s *Server) loadCase(c *fiber.Ctx) (*storage.Case, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errStatus(fiber.StatusNotFound, "case not found")
	}
	k, err := s.store.CaseByID(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errStatus(fiber.StatusNotFound, "case not found")
	}
	if err != nil {
		return nil, err
	}
	if !principal(c).CanSeeSite(k.Site) {
		return nil, errStatus(fiber.StatusForbidden, "this case belongs to a site you may not see")
	}
	return k, nil
}

// mayViewContact: admins, and the manager the case is assigned to.
func mayViewContact(p *Principal, k *storage.Case) bool {
	if p.Role == storage.RoleAdmin {
		return true
	}
	return p.Role == storage.RoleManager && p.Email != "" && strings.EqualFold(p.Email, k.Assignee)
}

// openContact decrypts a case's contact details and audits the view. It
// returns nil when the patient left none.
func (s *Server) openContact(c *fiber.Ctx, k *storage.Case) (*survey.Contact, error) {
	ctx := c.UserContext()
	sealed, rid, err := s.store.CaseContact(ctx, k.ID)
	if err != nil || sealed == nil {
		return nil, err
	}
	plain, err := s.keys.Open(sealed, []byte(rid))
	if err != nil {
		return nil, errors.New("api: contact details could not be decrypted")
	}
	var ct survey.Contact
	if err := json.Unmarshal(plain, &ct); err != nil {
		return nil, errors.New("api: contact details are damaged")
	}
	// Audited before it is shown: a view that cannot be recorded is refused.
	if err := s.store.Audit(ctx, principal(c).Actor(), "contact.view", rid,
		map[string]any{"case": k.ID, "site": k.Site}); err != nil {
		return nil, err
	}
	return &ct, nil
}

// apiCase is GET /api/v1/cases/{id}: the case, its response with comments
// and themes, and, for those allowed, the contact details.
func (s *Server) apiCase(c *fiber.Ctx) error {
	k, err := s.loadCase(c)
	if err != nil {
		return err
	}
	loc := s.siteLoc(c.UserContext(), k.Site)
	j := s.toCaseJSON(k, loc)
	r, err := s.store.ResponseByID(c.UserContext(), k.ResponseID)
	if err != nil {
		return err
	}
	rj := r.JSON(loc)
	j.Response = &rj
	if mayViewContact(principal(c), k) {
		if j.Contact, err = s.openContact(c, k); err != nil {
			return err
		}
	}
	c.Set("Cache-Control", "no-store")
	return c.JSON(j)
}

// casePatch is the body of PATCH /api/v1/cases/{id}.
type casePatch struct {
	Status      string  `json:"status"`
	Assignee    *string `json:"assignee"`
	Note        string  `json:"note"`
	Outcome     string  `json:"outcome"`
	CloseReason string  `json:"close_reason"`
}

// checkPatch validates a change against the case as it is and turns it
// into a storage update.
func (s *Server) checkPatch(ctx context.Context, k *storage.Case, b casePatch, actor string) (storage.CaseUpdate, error) {
	u := storage.CaseUpdate{FromStatus: k.Status, Actor: actor, Assignee: b.Assignee, At: s.now()}
	f := map[string]string{}
	b.Note = strings.TrimSpace(b.Note)
	if b.Status != "" && b.Status != k.Status {
		switch {
		case !cases.ValidStatus(b.Status):
			f["status"] = "must be new, contacted, resolved or closed"
		case !cases.CanMove(k.Status, b.Status):
			f["status"] = "a " + k.Status + " case cannot become " + b.Status
		}
		u.Status = b.Status
	}
	if b.Outcome != "" && !slices.Contains(cases.Outcomes, b.Outcome) {
		f["outcome"] = "must be one of " + strings.Join(cases.Outcomes, ", ")
	}
	u.Outcome = b.Outcome
	if u.Status == cases.StatusResolved && b.Outcome == "" && k.Outcome == "" {
		f["outcome"] = "is required to resolve a case"
	}
	if u.Status == cases.StatusClosed {
		if !slices.Contains(cases.CloseReasons, b.CloseReason) {
			f["close_reason"] = "is required to close without contact: one of " + strings.Join(cases.CloseReasons, ", ")
		}
		u.CloseReason = b.CloseReason
	} else if b.CloseReason != "" {
		f["close_reason"] = "only goes with status closed"
	}
	if utf8.RuneCountInString(b.Note) > 2000 {
		f["note"] = "is longer than 2000 characters"
	}
	u.Note = b.Note
	if b.Assignee != nil && *b.Assignee != "" {
		*b.Assignee = strings.ToLower(strings.TrimSpace(*b.Assignee))
		usr, err := s.store.UserByEmail(ctx, *b.Assignee)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			f["assignee"] = "is not a staff account"
		case err != nil:
			return u, err
		case usr.Disabled || (usr.Role != storage.RoleManager && usr.Role != storage.RoleAdmin):
			f["assignee"] = "must be an active manager or admin"
		case usr.Role == storage.RoleManager && !slices.Contains(usr.SiteList(), k.Site):
			f["assignee"] = "is not a manager of this site"
		}
	}
	if b.Assignee != nil && *b.Assignee == k.Assignee {
		u.Assignee = nil
	}
	if len(f) > 0 {
		return u, errInvalid(f)
	}
	if u.Status == "" && u.Assignee == nil && u.Note == "" && (u.Outcome == "" || u.Outcome == k.Outcome) {
		return u, errInvalid(map[string]string{"body": "nothing to change"})
	}
	return u, nil
}

// updateCase applies a validated change and audits it (never the note text).
func (s *Server) updateCase(c *fiber.Ctx, k *storage.Case, b casePatch) (*storage.Case, error) {
	p := principal(c)
	u, err := s.checkPatch(c.UserContext(), k, b, p.Actor())
	if err != nil {
		return nil, err
	}
	nk, err := s.store.UpdateCase(c.UserContext(), k.ID, u)
	if errors.Is(err, storage.ErrConflict) {
		return nil, errStatus(fiber.StatusConflict, "the case changed meanwhile: reload it and try again")
	}
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"site": k.Site, "from": k.Status, "to": nk.Status, "note": u.Note != ""}
	if u.Assignee != nil {
		detail["assignee"] = nk.Assignee
	}
	if u.Outcome != "" {
		detail["outcome"] = u.Outcome
	}
	s.store.Audit(c.UserContext(), p.Actor(), "case.update", strconv.FormatInt(k.ID, 10), detail)
	return nk, nil
}

// apiPatchCase is PATCH /api/v1/cases/{id}.
func (s *Server) apiPatchCase(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	k, err := s.loadCase(c)
	if err != nil {
		return err
	}
	var b casePatch
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	nk, err := s.updateCase(c, k, b)
	if err != nil {
		return err
	}
	return c.JSON(s.toCaseJSON(nk, s.siteLoc(c.UserContext(), nk.Site)))
}

// reportRange reads from/to months (YYYY-MM); default the last 12 months.
func (s *Server) reportRange(c *fiber.Ctx) (string, string, error) {
	now := s.now()
	to := c.Query("to", now.Format("2006-01"))
	from := c.Query("from", now.AddDate(0, -11, 0).Format("2006-01"))
	for k, v := range map[string]string{"from": from, "to": to} {
		if _, err := time.Parse("2006-01", v); err != nil {
			return "", "", errInvalid(map[string]string{k: "must be a month such as 2026-03"})
		}
	}
	return from, to, nil
}

func (s *Server) caseReport(c *fiber.Ctx) ([]cases.ReportRow, error) {
	p := principal(c)
	sites := p.Sites
	if site := c.Query("site"); site != "" {
		if !p.CanSeeSite(site) {
			return nil, errStatus(fiber.StatusForbidden, "you may not see this site's cases")
		}
		sites = []string{site}
	}
	from, to, err := s.reportRange(c)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.CaseReportCases(c.UserContext(), sites, from, to)
	if err != nil {
		return nil, err
	}
	return cases.Report(rows, s.now()), nil
}

// apiCaseReports is GET /api/v1/cases/reports.
func (s *Server) apiCaseReports(c *fiber.Ctx) error {
	rows, err := s.caseReport(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rows": rows})
}

// rulesJSON is the API shape of a site's case rules.
type rulesJSON struct {
	Site string `json:"site"`
	cases.Rules
	// RescheduledCases, in the answer to a save, counts the cases waiting for
	// first contact whose due time the new rules moved.
	RescheduledCases *int `json:"rescheduled_cases,omitempty"`
}

// newRulesJSON answers no closed days as [] rather than null, as
// working_days is never null either.
func newRulesJSON(site string, r cases.Rules) rulesJSON {
	if r.ClosedDays == nil {
		r.ClosedDays = []string{}
	}
	return rulesJSON{Site: site, Rules: r}
}

func (s *Server) apiCaseRules(c *fiber.Ctx) error {
	site := c.Params("site")
	if !principal(c).CanSeeSite(site) {
		return errStatus(fiber.StatusForbidden, "you may not see this site")
	}
	if _, err := s.site(c.UserContext(), site); err != nil {
		if se := storageError(err, "site"); se != nil {
			return se
		}
		return err
	}
	r, err := s.store.CaseRules(c.UserContext(), site)
	if err != nil {
		return err
	}
	return c.JSON(newRulesJSON(site, r))
}

func (s *Server) apiPutCaseRules(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	site := c.Params("site")
	r := cases.DefaultRules()
	if err := decodeJSON(c.Body(), &r); err != nil {
		return err
	}
	if f := r.Check(); f != nil {
		return errInvalid(f)
	}
	saved, err := s.saveRules(c, site, r)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

// saveRules stores checked rules and returns them as stored (closed days
// sorted and without repeats, so the answer and the audit entry show what
// due times will use) with how many open cases they rescheduled.
func (s *Server) saveRules(c *fiber.Ctx, site string, r cases.Rules) (rulesJSON, error) {
	p := principal(c)
	r.ClosedDays = cases.CleanClosedDays(r.ClosedDays)
	moved, err := s.store.SaveCaseRules(c.UserContext(), site, r, p.Actor())
	if err != nil {
		if se := storageError(err, "site"); se != nil {
			return rulesJSON{}, se
		}
		return rulesJSON{}, err
	}
	s.forgetCaseRules(site)
	saved := newRulesJSON(site, r)
	saved.RescheduledCases = &moved
	s.store.Audit(c.UserContext(), p.Actor(), "case_rules.save", site, saved)
	return saved, nil
}

// apiDeliveries is GET /api/v1/alerts/deliveries: the outbox, for admins
// checking that alerts go out.
func (s *Server) apiDeliveries(c *fiber.Ctx) error {
	ds, err := s.store.Deliveries(c.UserContext(), c.Query("kind"), 200)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []storage.Delivery{}
	}
	return c.JSON(fiber.Map{"deliveries": ds})
}
