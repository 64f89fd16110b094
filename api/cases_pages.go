package api

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// caseTable is one table of the queue page.
type caseTable struct {
	Caption string
	Rows    []caseRow
}

// caseRow is one line of the queue page.
type caseRow struct {
	K       storage.Case
	Reasons []string
	Opened  string
	Due     string
	Overdue bool
}

type casesPageData struct {
	Urgent, Others caseTable
	Statuses       []string
	Sites          []storage.Site
	Site, Status   string
	Mine           bool
	Now            string
}

func (s *Server) caseRowFor(k storage.Case, loc *time.Location) caseRow {
	r := caseRow{K: k, Opened: k.OpenedAt.In(loc).Format("Mon 2 Jan 15:04"), Due: dueText(k.DueAt.In(loc)),
		Overdue: cases.Overdue(k.Status, k.DueAt, s.now())}
	for _, code := range k.Reasons {
		r.Reasons = append(r.Reasons, cases.ReasonLabel(code))
	}
	return r
}

// dueText says "end of Tue 17 Nov" for a due time at local midnight (the
// usual case, cases.DueAt), which reads better than "Wed 18 Nov 00:00".
func dueText(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 {
		return "end of " + t.Add(-time.Minute).Format("Mon 2 Jan")
	}
	return t.Format("Mon 2 Jan 15:04 MST")
}

func (s *Server) staffPage(c *fiber.Ctx, title, nav string, data any) *Page {
	c.Set("Cache-Control", "no-store")
	p := s.page(c, "en", title, data)
	p.Nav = nav
	return p
}

// casesPage is GET /cases: the queue, urgent cases apart at the top, then
// the rest soonest due first, overdue ones marked in words.
func (s *Server) casesPage(c *fiber.Ctx) error {
	p := principal(c)
	f, err := caseFilter(c, p)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ks, err := s.store.Cases(ctx, f)
	if err != nil {
		return err
	}
	sites, err := s.store.Sites(ctx, p.Sites)
	if err != nil {
		return err
	}
	locs := map[string]*time.Location{}
	for _, st := range sites {
		locs[st.Slug] = st.Location()
	}
	d := casesPageData{Urgent: caseTable{Caption: "Urgent cases"}, Others: caseTable{Caption: "Follow-up cases"},
		Statuses: []string{"open", cases.StatusNew, cases.StatusContacted, cases.StatusResolved, cases.StatusClosed, "all"}, Sites: sites, Site: c.Query("site"), Status: c.Query("status", "open"), Mine: c.Query("mine") == "1"}
	for _, k := range ks {
		loc := locs[k.Site]
		if loc == nil {
			loc = time.UTC
		}
		r := s.caseRowFor(k, loc)
		if k.Urgent && (k.Status == cases.StatusNew || k.Status == cases.StatusContacted) {
			d.Urgent.Rows = append(d.Urgent.Rows, r)
		} else {
			d.Others.Rows = append(d.Others.Rows, r)
		}
	}
	return s.render(c, fiber.StatusOK, "cases", s.staffPage(c, "Follow-up cases", "cases", d))
}

// caseAnswer is one answer on the case page.
type caseAnswer struct {
	Question string
	Value    string
	Text     bool
	Analysis *storage.AnalysisJSON
	Urgent   []string
}

type casePageData struct {
	Row          caseRow
	Answers      []caseAnswer
	Survey       string
	Channel      string
	Department   string
	Submitted    string
	WantsContact bool
	HasContact   bool
	MayContact   bool
	Contact      *survey.Contact
	Notes        []noteRow
	Moves        []string
	Outcomes     []string
	CloseReasons []string
	Assignees    []string
	Error        string
	Fields       map[string]string
}

type noteRow struct {
	At, Author, Body string
}

func questionText(def *survey.Survey, id string) string {
	if def != nil {
		for _, q := range def.Questions {
			if q.ID == id {
				return textIn(q.Text, "en")
			}
		}
	}
	return id
}

// caseView gathers what the case page shows; contact details only when
// given (already audited).
func (s *Server) caseView(c *fiber.Ctx, k *storage.Case, contact *survey.Contact) (*casePageData, error) {
	ctx := c.UserContext()
	site, err := s.site(ctx, k.Site)
	if err != nil {
		return nil, err
	}
	loc := site.Location()
	r, err := s.store.ResponseByID(ctx, k.ResponseID)
	if err != nil {
		return nil, err
	}
	def, _ := s.store.SurveyVersion(ctx, r.Survey, r.SurveyVersion)
	d := &casePageData{Row: s.caseRowFor(*k, loc), Survey: r.Survey, Channel: r.Channel, Department: r.Department,
		Submitted: r.SubmittedAt.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), WantsContact: r.WantsContact,
		HasContact: r.HasContact, MayContact: mayViewContact(principal(c), k), Contact: contact,
		Outcomes: cases.Outcomes, CloseReasons: cases.CloseReasons}
	rj := r.JSON(loc)
	for _, a := range rj.Answers {
		ca := caseAnswer{Question: questionText(def, a.Question), Analysis: a.Analysis}
		switch v := a.Value.(type) {
		case string:
			ca.Value, ca.Text = v, true
			for _, cat := range cases.UrgentCategories(v) {
				ca.Urgent = append(ca.Urgent, cases.UrgentLabels[cat])
			}
		case []string:
			ca.Value = strings.Join(v, ", ")
		default:
			b, _ := jsonString(v)
			ca.Value = b
		}
		d.Answers = append(d.Answers, ca)
	}
	for _, n := range k.Notes {
		d.Notes = append(d.Notes, noteRow{At: n.At.In(loc).Format("2 Jan 15:04"), Author: n.Author, Body: n.Body})
	}
	for _, st := range []string{cases.StatusNew, cases.StatusContacted, cases.StatusResolved, cases.StatusClosed} {
		if cases.CanMove(k.Status, st) {
			d.Moves = append(d.Moves, st)
		}
	}
	rcpts, err := s.store.AlertRecipients(ctx, k.Site, true)
	if err != nil {
		return nil, err
	}
	for _, u := range rcpts {
		d.Assignees = append(d.Assignees, u.Email)
	}
	return d, nil
}

func jsonString(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		if x {
			return "yes", nil
		}
		return "no", nil
	case nil:
		return "", nil
	}
	return "", nil
}

func (s *Server) renderCase(c *fiber.Ctx, status int, k *storage.Case, contact *survey.Contact, e *Error) error {
	d, err := s.caseView(c, k, contact)
	if err != nil {
		return err
	}
	if e != nil {
		d.Error, d.Fields = e.Message, e.Fields
	}
	return s.render(c, status, "case", s.staffPage(c, "Case "+strconv.FormatInt(k.ID, 10), "cases", d))
}

// casePage is GET /cases/{id}. Contact details are not shown here: they are
// revealed by a deliberate POST, which is audited.
func (s *Server) casePage(c *fiber.Ctx) error {
	k, err := s.loadCase(c)
	if err != nil {
		return err
	}
	return s.renderCase(c, fiber.StatusOK, k, nil, nil)
}

// caseContactSubmit is POST /cases/{id}/contact: shows the decrypted
// contact details to an admin or the assigned manager, and audits it.
func (s *Server) caseContactSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	k, err := s.loadCase(c)
	if err != nil {
		return err
	}
	if !mayViewContact(principal(c), k) {
		return errStatus(fiber.StatusForbidden, "only admins and the manager assigned to this case may see the contact details")
	}
	ct, err := s.openContact(c, k)
	if err != nil {
		return err
	}
	if ct == nil {
		ct = &survey.Contact{}
	}
	return s.renderCase(c, fiber.StatusOK, k, ct, nil)
}

// caseSubmit is POST /cases/{id}: the case page's form.
func (s *Server) caseSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	k, err := s.loadCase(c)
	if err != nil {
		return err
	}
	b := casePatch{Status: c.FormValue("status"), Note: c.FormValue("note"), Outcome: c.FormValue("outcome"),
		CloseReason: c.FormValue("close_reason")}
	if c.FormValue("set_assignee") != "" {
		a := c.FormValue("assignee")
		b.Assignee = &a
	}
	if b.Status == k.Status {
		b.Status = ""
	}
	if _, err := s.updateCase(c, k, b); err != nil {
		var e *Error
		if errors.As(err, &e) && (e.Status == fiber.StatusBadRequest || e.Status == fiber.StatusConflict) {
			if k2, err2 := s.store.CaseByID(c.UserContext(), k.ID); err2 == nil {
				k = k2
			}
			return s.renderCase(c, e.Status, k, nil, e)
		}
		return err
	}
	return c.Redirect("/cases/"+strconv.FormatInt(k.ID, 10), fiber.StatusSeeOther)
}

type reportsPageData struct {
	Rows     []reportRow
	Sites    []storage.Site
	Site     string
	From, To string
}

type reportRow struct {
	cases.ReportRow
	OnTime, Median string
	Outcomes       string
	Closed         string
}

func countsText(m map[string]int) string {
	var parts []string
	for _, k := range append(append([]string{}, cases.Outcomes...), cases.CloseReasons...) {
		if n := m[k]; n > 0 {
			parts = append(parts, strings.ReplaceAll(k, "_", " ")+" "+strconv.Itoa(n))
		}
	}
	return strings.Join(parts, ", ")
}

// caseReportsPage is GET /cases/reports.
func (s *Server) caseReportsPage(c *fiber.Ctx) error {
	rows, err := s.caseReport(c)
	if err != nil {
		return err
	}
	p := principal(c)
	sites, err := s.store.Sites(c.UserContext(), p.Sites)
	if err != nil {
		return err
	}
	from, to, _ := s.reportRange(c)
	d := reportsPageData{Sites: sites, Site: c.Query("site"), From: from, To: to}
	for _, r := range rows {
		rr := reportRow{ReportRow: r, OnTime: "–", Median: "–", Outcomes: countsText(r.Outcomes), Closed: countsText(r.CloseReasons)}
		if r.OnTimePct != nil {
			rr.OnTime = strconv.FormatFloat(*r.OnTimePct, 'f', 0, 64) + "% (" + strconv.Itoa(r.OnTime) + " of " + strconv.Itoa(r.Due) + ")"
		}
		if r.MedianHours != nil {
			rr.Median = formatHours(*r.MedianHours)
		}
		d.Rows = append(d.Rows, rr)
	}
	return s.render(c, fiber.StatusOK, "case_reports", s.staffPage(c, "Case reports", "cases", d))
}

func formatHours(h float64) string {
	if h < 48 {
		return strconv.FormatFloat(h, 'f', 1, 64) + " h"
	}
	return strconv.FormatFloat(h/24, 'f', 1, 64) + " days"
}

type actionsPageData struct {
	Actions []storage.Action
	Sites   []storage.Site
	Langs   []string
	Error   string
	Fields  map[string]string
	Body    string
}

func (s *Server) renderActions(c *fiber.Ctx, status int, e *Error, body string) error {
	p := principal(c)
	ctx := c.UserContext()
	as, err := s.store.Actions(ctx, p.Sites, 100)
	if err != nil {
		return err
	}
	sites, err := s.store.Sites(ctx, p.Sites)
	if err != nil {
		return err
	}
	d := actionsPageData{Actions: as, Sites: sites, Langs: s.i18n.Languages(), Body: body}
	if e != nil {
		d.Error, d.Fields = e.Message, e.Fields
	}
	return s.render(c, status, "case_actions", s.staffPage(c, "You said, we did", "cases", d))
}

// actionsPage is GET /cases/actions.
func (s *Server) actionsPage(c *fiber.Ctx) error { return s.renderActions(c, fiber.StatusOK, nil, "") }

// actionsSubmit is POST /cases/actions: a new draft or published action.
func (s *Server) actionsSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	b := actionBody{Site: c.FormValue("site"), Lang: c.FormValue("lang"), Body: c.FormValue("body"), Publish: c.FormValue("publish") != ""}
	if _, err := s.createAction(c, b); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == fiber.StatusBadRequest {
			return s.renderActions(c, e.Status, e, b.Body)
		}
		return err
	}
	return c.Redirect("/cases/actions", fiber.StatusSeeOther)
}

// actionStateSubmit is POST /cases/actions/{id} with state=publish|withdraw.
func (s *Server) actionStateSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errStatus(fiber.StatusNotFound, "action not found")
	}
	if _, err := s.setActionState(c, id, c.FormValue("state") == "publish"); err != nil {
		return err
	}
	return c.Redirect("/cases/actions", fiber.StatusSeeOther)
}

type rulesPageData struct {
	Sites  []storage.Site
	Site   string
	Rules  cases.Rules
	Days   []dayBox
	Saved  bool
	Moved  int // open cases whose due time the save changed
	Error  string
	Fields map[string]string
	Sent   []storage.Delivery // the latest alerts, for checking they go out
}

type dayBox struct {
	N       int
	Name    string
	Checked bool
}

func (s *Server) renderRules(c *fiber.Ctx, status int, site string, r *cases.Rules, e *Error) error {
	ctx := c.UserContext()
	sites, err := s.store.Sites(ctx, nil)
	if err != nil {
		return err
	}
	if site == "" && len(sites) > 0 {
		site = sites[0].Slug
	}
	if r == nil {
		rr, err := s.store.CaseRules(ctx, site)
		if err != nil {
			return err
		}
		r = &rr
	}
	sent, err := s.store.Deliveries(ctx, "", 20)
	if err != nil {
		return err
	}
	d := rulesPageData{Sites: sites, Site: site, Rules: *r, Saved: c.Query("saved") != "", Sent: sent}
	if n, err := strconv.Atoi(c.Query("moved")); err == nil && n > 0 {
		d.Moved = n
	}
	// Typed-back input too is shown sorted, as it will be stored.
	d.Rules.ClosedDays = cases.CleanClosedDays(r.ClosedDays)
	for i := 0; i < 7; i++ {
		wd := time.Weekday((i + 1) % 7) // Monday first
		d.Days = append(d.Days, dayBox{N: int(wd), Name: wd.String(), Checked: slicesContainsDay(r.WorkingDays, wd)})
	}
	if e != nil {
		d.Error, d.Fields = e.Message, e.Fields
	}
	return s.render(c, status, "case_rules", s.staffPage(c, "Case rules", "cases", d))
}

func slicesContainsDay(ds []time.Weekday, d time.Weekday) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// rulesPage is GET /cases/rules?site=…: an admin changes a site's rules.
func (s *Server) rulesPage(c *fiber.Ctx) error {
	return s.renderRules(c, fiber.StatusOK, c.Query("site"), nil, nil)
}

// rulesSubmit is POST /cases/rules.
func (s *Server) rulesSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	site := c.FormValue("site")
	r := cases.Rules{FFTPoor: c.FormValue("fft_poor") != "", NPSDetractor: c.FormValue("nps_detractor") != "",
		IgnoredDismissed: c.FormValue("ignored_dismissed") != "", AlertNew: c.FormValue("alert_new") != ""}
	r.DueWorkingDays, _ = strconv.Atoi(c.FormValue("due_working_days"))
	for _, v := range c.Request().PostArgs().PeekMulti("day") {
		if n, err := strconv.Atoi(string(v)); err == nil && n >= 0 && n <= 6 {
			r.WorkingDays = append(r.WorkingDays, time.Weekday(n))
		}
	}
	r.ClosedDays = cases.SplitClosedDays(c.FormValue("closed_days"))
	if f := r.Check(); f != nil {
		return s.renderRules(c, fiber.StatusBadRequest, site, &r, errInvalid(f))
	}
	saved, err := s.saveRules(c, site, r)
	if err != nil {
		return err
	}
	return c.Redirect("/cases/rules?saved=1&moved="+strconv.Itoa(*saved.RescheduledCases)+"&site="+url.QueryEscape(site), fiber.StatusSeeOther)
}
