package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
)

// eachEnv runs f on SQLite and, when CAREVOICE_TEST_POSTGRES is set, on
// PostgreSQL.
func eachEnv(t *testing.T, f func(*testing.T, *apitest.Env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, apitest.New(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, apitest.NewWith(t, apitest.Options{Postgres: true})) })
}

// caseSites adds two sites in time zones with daylight saving.
func caseSites(t *testing.T, e *apitest.Env) {
	t.Helper()
	for _, s := range []storage.Site{
		{Slug: "north", Name: "North", TimeZone: "America/New_York"},
		{Slug: "central", Name: "Central", TimeZone: "America/Chicago"},
	} {
		if err := e.Store.UpsertSite(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
}

type caseOut struct {
	ID          int64    `json:"id"`
	ResponseID  string   `json:"response_id"`
	Site        string   `json:"site"`
	Status      string   `json:"status"`
	Urgent      bool     `json:"urgent"`
	Reason      string   `json:"reason"`
	Reasons     []string `json:"reasons"`
	Assignee    string   `json:"assignee"`
	DueAt       string   `json:"due_at"`
	Overdue     bool     `json:"overdue"`
	ContactedAt string   `json:"contacted_at"`
	Outcome     string   `json:"outcome"`
	CloseReason string   `json:"close_reason"`
	Contact     *struct {
		Name  string `json:"name"`
		Phone string `json:"phone"`
	} `json:"contact"`
	Response *struct {
		Answers []struct {
			Question string `json:"question"`
			Analysis *struct {
				Themes []struct {
					ID string `json:"id"`
				} `json:"themes"`
			} `json:"analysis"`
		} `json:"answers"`
	} `json:"response"`
}

// submitFFT stores an FFT response and returns its id.
func submitFFT(t *testing.T, e *apitest.Env, site string, rating int, improve string, contact bool) string {
	t.Helper()
	id := uuid.NewString()
	body := map[string]any{"id": id, "survey": "fft", "site": site, "channel": "link",
		"answers": []map[string]any{{"question": "q1", "value": rating}}}
	if improve != "" {
		body["answers"] = append(body["answers"].([]map[string]any), map[string]any{"question": "q3", "value": improve})
	}
	if contact {
		body["contact"] = map[string]any{"ok_to_contact": true, "name": "Ada Patient", "phone": "+1 555 0100"}
	}
	r := e.Anon().JSON("POST", "/api/v1/responses", body)
	if r.StatusCode != 201 {
		t.Fatalf("submit: got %d %s, want 201", r.StatusCode, r.Body)
	}
	return id
}

func listCases(t *testing.T, c *apitest.Client, query string) []caseOut {
	t.Helper()
	r := c.Get("/api/v1/cases" + query)
	if r.StatusCode != 200 {
		t.Fatalf("list cases: got %d %s", r.StatusCode, r.Body)
	}
	var out struct{ Cases []caseOut }
	r.Decode(t, &out)
	return out.Cases
}

func caseOf(t *testing.T, c *apitest.Client, responseID string) caseOut {
	t.Helper()
	for _, k := range listCases(t, c, "?status=all") {
		if k.ResponseID == responseID {
			return k
		}
	}
	t.Fatalf("no case for response %s", responseID)
	return caseOut{}
}

func TestCasesOpenByRule(t *testing.T) {
	e := apitest.New(t)
	caseSites(t, e)
	admin := e.Token("admin")
	tests := []struct {
		name    string
		rating  int
		improve string
		contact bool
		open    bool
		urgent  bool
		reasons string
	}{
		{"good, nothing asked", 1, "", false, false, false, ""},
		{"very poor", 5, "", false, true, false, "fft_poor"},
		{"poor", 4, "", false, true, false, "fft_poor"},
		{"neither", 3, "", false, false, false, ""},
		{"asked to be contacted", 1, "", true, true, false, "contact_requested"},
		{"urgent wording in a kind comment", 1, "Lovely staff. My father slipped and fell in the corridor though.", false, true, true, "urgent:fall"},
		{"near-miss", 1, "I fell asleep in the waiting room", false, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := submitFFT(t, e, "north", tt.rating, tt.improve, tt.contact)
			var found *caseOut
			for _, k := range listCases(t, admin, "?status=all") {
				if k.ResponseID == id {
					found = &k
				}
			}
			if (found != nil) != tt.open {
				t.Fatalf("case opened: got %v, want %v", found != nil, tt.open)
			}
			if found == nil {
				return
			}
			if found.Urgent != tt.urgent || strings.Join(found.Reasons, ",") != tt.reasons || found.Status != "new" || found.Site != "north" {
				t.Fatalf("got urgent=%v reasons=%v status=%s site=%s, want urgent=%v reasons=%s new north",
					found.Urgent, found.Reasons, found.Status, found.Site, tt.urgent, tt.reasons)
			}
		})
	}
	// Rules are per site: switching FFT off at north stops those cases
	// there but not a call-back request.
	r := admin.JSON("PUT", "/api/v1/sites/north/case-rules", map[string]any{"fft_poor": false, "nps_detractor": true,
		"ignored_dismissed": true, "due_working_days": 2, "working_days": []int{1, 2, 3, 4, 5}})
	if r.StatusCode != 200 {
		t.Fatalf("put rules: %d %s", r.StatusCode, r.Body)
	}
	before := len(listCases(t, admin, "?status=all"))
	submitFFT(t, e, "north", 5, "", false)
	if n := len(listCases(t, admin, "?status=all")); n != before {
		t.Fatalf("FFT 5 with the rule off opened a case: %d cases, want %d", n, before)
	}
	submitFFT(t, e, "central", 5, "", false)
	submitFFT(t, e, "north", 2, "", true)
	if n := len(listCases(t, admin, "?status=all")); n != before+2 {
		t.Fatalf("got %d cases, want %d", n, before+2)
	}
	bad := admin.JSON("PUT", "/api/v1/sites/north/case-rules", map[string]any{"due_working_days": 0, "working_days": []int{}})
	if bad.StatusCode != 400 || !strings.Contains(bad.Body, "working_days") {
		t.Fatalf("bad rules: got %d %s, want 400", bad.StatusCode, bad.Body)
	}
}

// TestCaseDueTimes runs the app on a fake clock: due times over a weekend
// and a daylight-saving change, in the site's zone, and overdue marking.
func TestCaseDueTimes(t *testing.T) { eachEnv(t, testCaseDueTimes) }

func testCaseDueTimes(t *testing.T, e *apitest.Env) {
	caseSites(t, e)
	admin := e.Token("admin")
	ny, _ := time.LoadLocation("America/New_York")
	// Friday 6 March 2026, 15:00 in New York; clocks spring forward on
	// Sunday 8 March.
	e.Now = time.Date(2026, 3, 6, 15, 0, 0, 0, ny)
	id := submitFFT(t, e, "north", 5, "", false)
	k := caseOf(t, admin, id)
	if k.DueAt != "2026-03-11T00:00:00-04:00" {
		t.Fatalf("due: got %s, want 2026-03-11T00:00:00-04:00 (end of Tuesday, EDT)", k.DueAt)
	}
	if k.Overdue {
		t.Fatal("overdue at once")
	}
	// Saturday night UTC is still Friday in Chicago: Friday rules apply.
	e.Now = time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	k2 := caseOf(t, admin, submitFFT(t, e, "central", 4, "", false))
	if k2.DueAt != "2026-03-11T00:00:00-05:00" {
		t.Fatalf("central due: got %s, want 2026-03-11T00:00:00-05:00", k2.DueAt)
	}
	// One second before the due time: not overdue; one after: overdue, and
	// first in the queue.
	e.Now = time.Date(2026, 3, 11, 3, 59, 59, 0, time.UTC)
	if caseOf(t, admin, id).Overdue {
		t.Fatal("overdue before the due time")
	}
	e.Now = time.Date(2026, 3, 11, 4, 0, 1, 0, time.UTC)
	q := listCases(t, admin, "")
	if len(q) < 2 || q[0].ResponseID != id || !q[0].Overdue || q[1].Overdue {
		t.Fatalf("queue: got %+v, want north's case first and overdue, central's not yet", q)
	}
	// A Sunday–Thursday clinic: Thursday's case is due at the end of Monday.
	r := admin.JSON("PUT", "/api/v1/sites/central/case-rules", map[string]any{"fft_poor": true, "nps_detractor": true,
		"ignored_dismissed": true, "due_working_days": 2, "working_days": []int{0, 1, 2, 3, 4}})
	if r.StatusCode != 200 {
		t.Fatalf("put rules: %d %s", r.StatusCode, r.Body)
	}
	chicago, _ := time.LoadLocation("America/Chicago")
	e.Now = time.Date(2026, 3, 19, 10, 0, 0, 0, chicago).Add(time.Minute) // past the rules cache
	k3 := caseOf(t, admin, submitFFT(t, e, "central", 5, "", false))
	if k3.DueAt != "2026-03-24T00:00:00-05:00" {
		t.Fatalf("Sunday–Thursday due: got %s, want 2026-03-24T00:00:00-05:00", k3.DueAt)
	}
	// Contacted cases are never overdue.
	e.Now = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	p := admin.JSON("PATCH", fmt.Sprintf("/api/v1/cases/%d", k.ID), map[string]any{"status": "contacted", "note": "Called, left a message"})
	if p.StatusCode != 200 {
		t.Fatalf("patch: %d %s", p.StatusCode, p.Body)
	}
	var after caseOut
	p.Decode(t, &after)
	if after.Overdue || after.ContactedAt == "" {
		t.Fatalf("after contact: overdue=%v contacted_at=%q", after.Overdue, after.ContactedAt)
	}
}

func TestCaseLifecycleAndPermissions(t *testing.T) { eachEnv(t, testCaseLifecycleAndPermissions) }

func testCaseLifecycleAndPermissions(t *testing.T, e *apitest.Env) {
	caseSites(t, e)
	admin := e.Token("admin")
	pw := e.CreateUser("nora@example.org", "manager", "north")
	nora := e.LoginAs("nora@example.org", pw)
	other := e.Login("manager", "north")  // same site, not assigned
	carl := e.Login("manager", "central") // another site
	quality := e.Token("quality")

	id := submitFFT(t, e, "north", 5, "Nobody listened to me about the pain", true)
	k := caseOf(t, admin, id)
	path := fmt.Sprintf("/api/v1/cases/%d", k.ID)

	// Who may see the case at all.
	for _, tt := range []struct {
		name   string
		c      *apitest.Client
		status int
	}{
		{"anonymous", e.Anon(), 401},
		{"quality", quality, 403},
		{"another site's manager", carl, 403},
		{"the site's manager", other, 200},
		{"admin", admin, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := tt.c.Get(path); r.StatusCode != tt.status {
				t.Fatalf("GET: got %d %s, want %d", r.StatusCode, r.Body, tt.status)
			}
			if tt.status == 200 {
				return
			}
			if r := tt.c.JSON("PATCH", path, map[string]any{"status": "contacted"}); r.StatusCode != tt.status {
				t.Fatalf("PATCH: got %d %s, want %d", r.StatusCode, r.Body, tt.status)
			}
		})
	}
	if got := listCases(t, carl, ""); len(got) != 0 {
		t.Fatalf("central's manager sees %d north cases", len(got))
	}
	if r := carl.Get("/api/v1/cases?site=north"); r.StatusCode != 403 {
		t.Fatalf("central's manager asking for north: got %d, want 403", r.StatusCode)
	}
	if got := listCases(t, other, ""); len(got) != 1 {
		t.Fatalf("north's manager sees %d cases, want 1", len(got))
	}

	// Contact details: not for an unassigned manager, nor recorded.
	audits := func() int {
		es, err := e.Store.AuditLog(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range es {
			if a.Action == "contact.view" && a.Target == id {
				n++
			}
		}
		return n
	}
	var got caseOut
	base := audits() // the admin's view above
	other.Get(path).Decode(t, &got)
	if got.Contact != nil || audits() != base {
		t.Fatalf("unassigned manager: contact %+v, %d audit rows", got.Contact, audits())
	}
	if got.Response == nil || len(got.Response.Answers) != 2 || got.Response.Answers[1].Analysis == nil {
		t.Fatalf("response with analysed comments missing: %+v", got.Response)
	}
	// The case page never reveals contact details to an unassigned manager.
	if r := other.Form(fmt.Sprintf("/cases/%d/contact", k.ID), url.Values{"csrf": {other.CSRF}}); r.StatusCode != 403 {
		t.Fatalf("reveal by unassigned manager: got %d, want 403", r.StatusCode)
	}

	// Only an active manager of the case's site (or an admin) is assignable;
	// a manager without sites is nobody's manager.
	e.CreateUser("cleo@example.org", "manager", "central")
	e.CreateUser("sid@example.org", "manager")
	e.CreateUser("quinn@example.org", "quality")
	for _, who := range []string{"carl@example.org", "cleo@example.org", "sid@example.org", "quinn@example.org"} {
		bad := admin.JSON("PATCH", path, map[string]any{"assignee": who})
		var eb errorBody
		bad.Decode(t, &eb)
		if bad.StatusCode != 400 || eb.Fields["assignee"] == "" {
			t.Fatalf("assign to %s: got %d %s, want 400 naming assignee", who, bad.StatusCode, bad.Body)
		}
	}
	// Assign to Nora; she sees the details, and each view is audited.
	if r := admin.JSON("PATCH", path, map[string]any{"assignee": "nora@example.org"}); r.StatusCode != 200 {
		t.Fatalf("assign: %d %s", r.StatusCode, r.Body)
	}
	nora.Get(path).Decode(t, &got)
	if got.Contact == nil || got.Contact.Name != "Ada Patient" || got.Contact.Phone != "+1 555 0100" {
		t.Fatalf("assigned manager: contact %+v", got.Contact)
	}
	if n := audits(); n != base+1 {
		t.Fatalf("audit rows after one view: %d, want %d", n, base+1)
	}
	r := nora.Form(fmt.Sprintf("/cases/%d/contact", k.ID), url.Values{"csrf": {nora.CSRF}})
	if r.StatusCode != 200 || !strings.Contains(r.Body, "555 0100") {
		t.Fatalf("reveal page: got %d", r.StatusCode)
	}
	admin.Get(path).Decode(t, &got)
	if got.Contact == nil || audits() != base+3 {
		t.Fatalf("admin view: contact %v, %d audit rows, want %d", got.Contact != nil, audits(), base+3)
	}
	// The plain case page shows no contact details and records nothing.
	if r := nora.Get(fmt.Sprintf("/cases/%d", k.ID)); r.StatusCode != 200 || strings.Contains(r.Body, "555 0100") || audits() != base+3 {
		t.Fatalf("case page: %d, leaks contact or audits", r.StatusCode)
	}

	// Status moves.
	noCSRF := *nora
	noCSRF.CSRF = ""
	if r := noCSRF.JSON("PATCH", path, map[string]any{"status": "contacted"}); r.StatusCode != 403 {
		t.Fatalf("PATCH without CSRF: got %d, want 403", r.StatusCode)
	}
	for _, step := range []struct {
		body   map[string]any
		status int
		want   string
	}{
		{map[string]any{"status": "resolved", "outcome": "apology"}, 400, "cannot become resolved"},
		{map[string]any{"status": "closed"}, 400, "close_reason"},
		{map[string]any{"status": "sleeping"}, 400, "status"},
		{map[string]any{}, 400, "nothing to change"},
		{map[string]any{"status": "contacted", "note": "Spoke to the patient; apologised."}, 200, `"status":"contacted"`},
		{map[string]any{"status": "resolved"}, 400, "outcome"},
		{map[string]any{"status": "resolved", "outcome": "magic"}, 400, "outcome"},
		{map[string]any{"status": "resolved", "outcome": "apology"}, 200, `"status":"resolved"`},
	} {
		r := nora.JSON("PATCH", path, step.body)
		if r.StatusCode != step.status || !strings.Contains(r.Body, step.want) {
			t.Fatalf("PATCH %v: got %d %s, want %d with %q", step.body, r.StatusCode, r.Body, step.status, step.want)
		}
	}
	admin.Get(path).Decode(t, &got)
	if got.Status != "resolved" || got.Outcome != "apology" || got.ContactedAt == "" {
		t.Fatalf("final: %+v", got)
	}

	// Closing without contact needs a reason.
	k2 := caseOf(t, admin, submitFFT(t, e, "north", 4, "", false))
	p2 := fmt.Sprintf("/api/v1/cases/%d", k2.ID)
	if r := other.JSON("PATCH", p2, map[string]any{"status": "closed", "close_reason": "no_contact_details"}); r.StatusCode != 200 {
		t.Fatalf("close: %d %s", r.StatusCode, r.Body)
	}
	if r := other.Get("/api/v1/cases"); strings.Contains(r.Body, fmt.Sprintf(`"id":%d,`, k2.ID)) {
		t.Fatal("closed case still in the open queue")
	}
}

func TestCasePagesRender(t *testing.T) {
	e := apitest.New(t)
	caseSites(t, e)
	admin := e.Login("admin")
	mgr := e.Login("manager", "north")
	submitFFT(t, e, "north", 5, "<script>alert(1)</script> the wrong medication was given", true)
	submitFFT(t, e, "north", 4, "", false)
	k := listCases(t, admin, "")[0]
	for _, tt := range []struct {
		c      *apitest.Client
		path   string
		status int
		want   string
	}{
		{mgr, "/cases", 200, "URGENT"},
		{mgr, fmt.Sprintf("/cases/%d", k.ID), 200, "&lt;script&gt;"},
		{mgr, "/cases/reports", 200, "Cases by site and month"},
		{mgr, "/cases/actions", 200, "You said, we did"},
		{mgr, "/cases/rules", 403, ""},
		{admin, "/cases/rules?site=north", 200, "Working days"},
		{e.Anon(), "/cases", 303, ""},
	} {
		r := tt.c.Get(tt.path)
		if r.StatusCode != tt.status || !strings.Contains(r.Body, tt.want) || strings.Contains(r.Body, "<script>alert") {
			t.Errorf("GET %s: got %d, want %d with %q", tt.path, r.StatusCode, tt.status, tt.want)
		}
	}
	// The form moves a case and redirects back.
	r := mgr.Form(fmt.Sprintf("/cases/%d", k.ID), url.Values{"csrf": {mgr.CSRF}, "status": {"contacted"}, "note": {"rang back"}})
	if r.StatusCode != 303 {
		t.Fatalf("form: got %d %s", r.StatusCode, r.Body)
	}
	r = admin.Form("/cases/rules", url.Values{"csrf": {admin.CSRF}, "site": {"north"}, "due_working_days": {"3"}, "day": {"1", "2", "3"}})
	if r.StatusCode != 303 {
		t.Fatalf("rules form: got %d %s", r.StatusCode, r.Body)
	}
	rules, _ := e.Store.CaseRules(context.Background(), "north")
	if rules.DueWorkingDays != 3 || len(rules.WorkingDays) != 3 || rules.FFTPoor {
		t.Fatalf("rules saved: %+v", rules)
	}
}

func TestCaseReports(t *testing.T) {
	e := apitest.New(t)
	caseSites(t, e)
	admin := e.Token("admin")
	ny, _ := time.LoadLocation("America/New_York")
	e.Now = time.Date(2026, 3, 2, 9, 0, 0, 0, ny) // Monday: due end of Wednesday
	a := caseOf(t, admin, submitFFT(t, e, "north", 5, "", false))
	b := caseOf(t, admin, submitFFT(t, e, "north", 5, "", false))
	c := caseOf(t, admin, submitFFT(t, e, "central", 5, "", false))
	e.Now = e.Now.Add(6 * time.Hour)
	admin.JSON("PATCH", fmt.Sprintf("/api/v1/cases/%d", a.ID), map[string]any{"status": "contacted"})
	e.Now = e.Now.Add(4 * 24 * time.Hour) // past due
	admin.JSON("PATCH", fmt.Sprintf("/api/v1/cases/%d", b.ID), map[string]any{"status": "contacted"})
	admin.JSON("PATCH", fmt.Sprintf("/api/v1/cases/%d", c.ID), map[string]any{"status": "closed", "close_reason": "unreachable"})
	r := admin.Get("/api/v1/cases/reports?from=2026-03&to=2026-03")
	var out struct {
		Rows []struct {
			Site        string         `json:"site"`
			Month       string         `json:"month"`
			Opened      int            `json:"opened"`
			Due         int            `json:"due"`
			OnTime      int            `json:"contacted_on_time"`
			Pct         *float64       `json:"contacted_on_time_pct"`
			MedianHours *float64       `json:"median_hours_to_contact"`
			Closed      map[string]int `json:"closed_without_contact"`
		}
	}
	r.Decode(t, &out)
	if len(out.Rows) != 3 {
		t.Fatalf("rows: %s", r.Body)
	}
	all, north := out.Rows[0], out.Rows[2]
	if all.Site != "all" || all.Opened != 3 || north.Site != "north" || north.Opened != 2 || north.OnTime != 1 || north.Due != 2 ||
		north.Pct == nil || *north.Pct != 50 || north.MedianHours == nil || *north.MedianHours != (6+102)/2.0 {
		t.Fatalf("report: %s", r.Body)
	}
	if out.Rows[1].Closed["unreachable"] != 1 {
		t.Fatalf("central closed reasons: %s", r.Body)
	}
	if mr := e.Login("manager", "central").Get("/api/v1/cases/reports?site=north"); mr.StatusCode != 403 {
		t.Fatalf("another site's report: got %d, want 403", mr.StatusCode)
	}
}

func TestYouSaidWeDid(t *testing.T) {
	e := apitest.New(t)
	mgr := e.Login("manager", "main")
	carl := e.Login("manager", "elsewhere")
	text := "You told us waits were long on Monday mornings; we added a second nurse <b>now</b>."
	r := mgr.JSON("POST", "/api/v1/actions", map[string]any{"site": "main", "body": text})
	if r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	var a struct{ ID int64 }
	r.Decode(t, &a)
	shown := func() bool {
		t.Helper()
		e.Now = e.Now.Add(time.Minute)
		page := e.Anon().Get("/suggest/main")
		if strings.Contains(page.Body, "<b>now</b>") {
			t.Fatal("action body not escaped")
		}
		return strings.Contains(page.Body, "we added a second nurse &lt;b&gt;now&lt;/b&gt;.")
	}
	e.Now = time.Now()
	if shown() {
		t.Fatal("a draft is shown to patients")
	}
	if r := carl.JSON("PATCH", fmt.Sprintf("/api/v1/actions/%d", a.ID), map[string]any{"published": true}); r.StatusCode != 403 {
		t.Fatalf("another site's manager publishing: got %d, want 403", r.StatusCode)
	}
	if r := mgr.JSON("PATCH", fmt.Sprintf("/api/v1/actions/%d", a.ID), map[string]any{"published": true}); r.StatusCode != 200 {
		t.Fatalf("publish: %d %s", r.StatusCode, r.Body)
	}
	if !shown() {
		t.Fatal("published action not on the suggestion box")
	}
	// The thank-you page and a kiosk show it too.
	kiosk, _ := e.Device("main")
	if page := e.Anon().Get("/kiosk/" + kiosk.Kiosk); page.StatusCode != 200 || !strings.Contains(page.Body, "second nurse") {
		t.Fatalf("kiosk screen: %d, action missing", page.StatusCode)
	}
	form := url.Values{"id": {uuid.NewString()}, "a.q1": {"1"}, "site": {"main"}}
	thanks := e.Anon().Form("/f/fft", form)
	if thanks.StatusCode != 200 || !strings.Contains(thanks.Body, "second nurse") {
		t.Fatalf("thank-you page: %d, action missing", thanks.StatusCode)
	}
	if r := mgr.JSON("PATCH", fmt.Sprintf("/api/v1/actions/%d", a.ID), map[string]any{"published": false}); r.StatusCode != 200 {
		t.Fatalf("withdraw: %d %s", r.StatusCode, r.Body)
	}
	if shown() {
		t.Fatal("a withdrawn action is still shown")
	}
	if r := mgr.JSON("POST", "/api/v1/actions", map[string]any{"site": "main", "body": strings.Repeat("x", 281)}); r.StatusCode != 400 {
		t.Fatalf("long action: got %d, want 400", r.StatusCode)
	}
	if r := carl.JSON("POST", "/api/v1/actions", map[string]any{"site": "main", "body": "hi"}); r.StatusCode != 403 {
		t.Fatalf("another site's manager: got %d, want 403", r.StatusCode)
	}
}
