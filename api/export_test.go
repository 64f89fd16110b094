package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// store adds a response to site main directly through intake (the API's own
// path minus HTTP), so tests can add many quickly and concurrently.
func store(t testing.TB, e *apitest.Env, text string, contact *survey.Contact) string {
	t.Helper()
	// Errorf, not Fatal: tests call this from several goroutines.
	fail := func(err any) string { t.Errorf("store: %v", err); return "" }
	ctx := context.Background()
	def, err := e.Store.Survey(ctx, "fft")
	if err != nil {
		return fail(err)
	}
	site, err := e.Store.Site(ctx, "main")
	if err != nil {
		return fail(err)
	}
	rating, _ := json.Marshal(2)
	s := &survey.Submission{ID: uuid.NewString(), Survey: "fft", Site: "main", Channel: "link", Lang: "en", Contact: contact,
		Answers: []survey.Answer{{Question: "q1", Value: rating}}}
	if text != "" {
		b, _ := json.Marshal(text)
		s.Answers = append(s.Answers, survey.Answer{Question: "q3", Value: b})
	}
	parsed, fields := survey.ValidateAnswers(def, s.Answers)
	if len(fields) > 0 {
		return fail(fields)
	}
	// intake.Build minus the analyzer: these tests are about exports, and a
	// fixed analysis keeps them apart from the model's changes.
	at := time.Now()
	r := &storage.NewResponse{ID: s.ID, Survey: "fft", SurveyVersion: def.Version, Site: "main", Channel: "link", Lang: "en",
		SubmittedAt: at, LocalDay: at.In(site.Location()).Format(time.DateOnly), Fingerprint: survey.Fingerprint(s, parsed)}
	for _, a := range parsed {
		na := storage.NewAnswer{Question: a.Question, Position: a.Position, Type: a.Type, Intent: a.Intent, Num: a.Num, Text: a.Text}
		if a.Text != nil {
			na.Analysis = &analytics.Result{Sentiment: "negative", Score: -0.4, Version: "test", Themes: []analytics.ThemeHit{}}
		}
		r.Answers = append(r.Answers, na)
	}
	if !contact.Empty() {
		b, _ := json.Marshal(contact)
		sealed, err := e.Keys.Seal(b, []byte(s.ID))
		if err != nil {
			return fail(err)
		}
		r.Contact, r.WantsContact = sealed, contact.OKToContact
	}
	if _, err := e.Store.SubmitResponse(ctx, r); err != nil {
		return fail(err)
	}
	return s.ID
}

func readCSV(t *testing.T, body string) []map[string]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// lastAudit returns the newest audit entry of action with its detail.
func lastAudit(t *testing.T, e *apitest.Env, action string) (storage.AuditEntry, map[string]any) {
	t.Helper()
	es, err := e.Store.AuditSearch(context.Background(), storage.AuditQuery{Action: action, Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("no %s audit entry (err %v)", action, err)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(es[0].Detail), &d); err != nil {
		t.Fatal(err)
	}
	return es[0], d
}

func TestExportRoles(t *testing.T) {
	e := apitest.New(t)
	for i := 0; i < 5; i++ {
		store(t, e, "Lovely staff, thank you", nil)
	}
	kiosk, _ := e.Device("main")
	cases := []struct {
		name   string
		client *apitest.Client
		path   string
		want   int
	}{
		{"anonymous api", e.Anon(), "/api/v1/export.csv", 401},
		{"kiosk api", kiosk, "/api/v1/export.csv", 403},
		{"manager api", e.Token("manager"), "/api/v1/export.csv", 403},
		{"manager session api", e.Login("manager"), "/api/v1/export.csv", 403},
		{"manager page", e.Login("manager"), "/export", 403},
		{"manager download", e.Login("manager"), "/export/download", 403},
		{"manager list", e.Token("manager"), "/api/v1/responses", 403},
		{"manager comments", e.Token("manager"), "/api/v1/comments", 403},
		{"kiosk list", kiosk, "/api/v1/responses", 403},
		{"quality audit page", e.Login("quality"), "/admin/audit", 403},
		{"quality audit api", e.Token("quality"), "/api/v1/audit", 403},
		{"quality audit csv", e.Login("quality"), "/admin/audit.csv", 403},
		{"quality page", e.Login("quality"), "/export", 200},
		{"admin page", e.Login("admin"), "/export", 200},
		{"admin audit page", e.Login("admin"), "/admin/audit", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := c.client.Get(c.path); r.StatusCode != c.want {
				t.Errorf("got %d, want %d: %.200s", r.StatusCode, c.want, r.Body)
			}
		})
	}

	t.Run("export page", func(t *testing.T) {
		qp := e.Login("quality").Get("/export?site=main&format=comments")
		if !strings.Contains(qp.Body, `value="1" checked`) || strings.Contains(qp.Body, "include_contact") ||
			!strings.Contains(qp.Body, `value="main" selected`) || !strings.Contains(qp.Body, `name="csrf"`) {
			t.Errorf("quality page: redaction not on by default, filters not kept, or contact offered: %.2000s", qp.Body)
		}
		ap := e.Login("admin").Get("/export")
		if !strings.Contains(ap.Body, `id="redact-0" name="redact" value="0" checked`) || !strings.Contains(ap.Body, "include_contact") {
			t.Errorf("admin page: %.2000s", ap.Body)
		}
	})

	t.Run("quality gets the file and an audit row", func(t *testing.T) {
		r := e.Token("quality").Get("/api/v1/export.csv?site=main&bom=1")
		if r.StatusCode != 200 {
			t.Fatalf("got %d: %s", r.StatusCode, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
			t.Errorf("content disposition %q", cd)
		}
		if !strings.HasPrefix(r.Body, "\uFEFF") {
			t.Error("bom=1 gave no BOM")
		}
		rows := readCSV(t, r.Body)
		if len(rows) != 5 {
			t.Fatalf("rows: got %d, want 5", len(rows))
		}
		a, d := lastAudit(t, e, "export.csv")
		if !strings.HasPrefix(a.Actor, "token:") || d["rows"] != float64(5) || d["format"] != "responses" || d["complete"] != true {
			t.Errorf("audit: actor %s detail %v", a.Actor, d)
		}
		if f, _ := d["filters"].(map[string]any); f["site"] != "main" {
			t.Errorf("audit filters: %v", d["filters"])
		}
	})

	t.Run("quality downloads from the page", func(t *testing.T) {
		q := e.Login("quality")
		r := q.Form("/export/download", url.Values{"format": {"comments"}})
		if r.StatusCode != 200 {
			t.Fatalf("got %d: %.300s", r.StatusCode, r.Body)
		}
		if rows := readCSV(t, r.Body); len(rows) != 5 {
			t.Errorf("rows: got %d, want 5", len(rows))
		}
		a, d := lastAudit(t, e, "export.csv")
		if !strings.HasPrefix(a.Actor, "user:quality") || d["rows"] != float64(5) || d["via"] != "page" || d["redact"] != true {
			t.Errorf("audit: actor %s detail %v", a.Actor, d)
		}
		// A form post without the CSRF token is refused.
		q.CSRF = ""
		if r := q.Form("/export/download", url.Values{"format": {"comments"}}); r.StatusCode != 403 {
			t.Errorf("no CSRF: got %d", r.StatusCode)
		}
	})
}

func TestExportBadInput(t *testing.T) {
	e := apitest.New(t)
	q := e.Token("quality")
	for _, path := range []string{
		"/api/v1/export.csv?format=xlsx",
		"/api/v1/export.csv?from=yesterday",
		"/api/v1/export.csv?from=2026-03-02&to=2026-03-01",
		"/api/v1/export.csv?site=Not+A+Slug",
		"/api/v1/export.csv?site=nowhere",
		"/api/v1/export.csv?channel=fax",
		"/api/v1/export.csv?period=forever",
		"/api/v1/responses?limit=0",
		"/api/v1/responses?limit=100000",
		"/api/v1/responses?cursor=abc",
		"/api/v1/comments?cursor=12",
		"/api/v1/audit?before=x",
	} {
		t.Run(path, func(t *testing.T) {
			tok := q
			if strings.Contains(path, "/audit") {
				tok = e.Token("admin")
			}
			r := tok.Get(path)
			var b errorBody
			r.Decode(t, &b)
			if r.StatusCode != 400 || b.Error == "" {
				t.Errorf("got %d %s, want 400 with an error", r.StatusCode, r.Body)
			}
		})
	}
}

func TestExportContactAndRedaction(t *testing.T) {
	e := apitest.New(t)
	id := store(t, e, "Dr. Patel called me on 07700 900123, email jo@example.com", &survey.Contact{OKToContact: true,
		Name: "Ana López", Phone: "+1 555 0100", Email: "ana@example.org"})

	t.Run("no contact unless asked", func(t *testing.T) {
		r := e.Token("admin").Get("/api/v1/export.csv")
		if strings.Contains(r.Body, "López") || strings.Contains(r.Body, "ana@example.org") {
			t.Errorf("contact details in a plain export: %s", r.Body)
		}
	})
	t.Run("quality may not ask", func(t *testing.T) {
		if r := e.Token("quality").Get("/api/v1/export.csv?include_contact=1"); r.StatusCode != 403 {
			t.Errorf("got %d, want 403", r.StatusCode)
		}
	})
	t.Run("admin session needs the CSRF token", func(t *testing.T) {
		a := e.Login("admin")
		if r := a.Get("/export/download?include_contact=1"); r.StatusCode != 403 {
			t.Errorf("without token: got %d, want 403", r.StatusCode)
		}
		r := a.Form("/export/download", url.Values{"include_contact": {"1"}, "redact": {"0"}})
		if r.StatusCode != 200 {
			t.Fatalf("with token: got %d %.200s", r.StatusCode, r.Body)
		}
		rows := readCSV(t, r.Body)
		if len(rows) != 1 || rows[0]["contact_name"] != "Ana López" || rows[0]["contact_email"] != "ana@example.org" {
			t.Errorf("contact cells: %v", rows)
		}
		_, d := lastAudit(t, e, "export.csv")
		if d["include_contact"] != true || d["contacts"] != float64(1) {
			t.Errorf("audit: %v", d)
		}
	})
	t.Run("admin token asks", func(t *testing.T) {
		r := e.Token("admin").Get("/api/v1/export.csv?include_contact=1")
		rows := readCSV(t, r.Body)
		if r.StatusCode != 200 || rows[0]["response_id"] != id || rows[0]["contact_phone"] != "'+1 555 0100" {
			t.Errorf("got %d %v", r.StatusCode, rows)
		}
	})
	t.Run("redaction on by default for quality in the UI", func(t *testing.T) {
		r := e.Login("quality").Form("/export/download", url.Values{"format": {"comments"}})
		rows := readCSV(t, r.Body)
		text := rows[0]["text"]
		if strings.Contains(text, "Patel") || strings.Contains(text, "07700") || strings.Contains(text, "jo@example.com") {
			t.Errorf("not redacted: %q", text)
		}
		_, d := lastAudit(t, e, "export.csv")
		masks, _ := d["masks"].(map[string]any)
		if masks["phone"] != float64(1) || masks["email"] != float64(1) || masks["name"] != float64(1) {
			t.Errorf("audit masks: %v", d)
		}
		r = e.Login("quality").Form("/export/download", url.Values{"format": {"comments"}, "redact": {"0"}})
		if rows := readCSV(t, r.Body); !strings.Contains(rows[0]["text"], "Patel") {
			t.Errorf("redact=0 still masked: %q", rows[0]["text"])
		}
	})
	t.Run("comments API redacts on request", func(t *testing.T) {
		var body struct {
			Comments []struct {
				Text     string `json:"text"`
				Analysis *struct {
					Sentiment string `json:"sentiment"`
				} `json:"analysis"`
			} `json:"comments"`
		}
		r := e.Token("quality").Get("/api/v1/comments?redact=1")
		r.Decode(t, &body)
		if len(body.Comments) != 1 || strings.Contains(body.Comments[0].Text, "Patel") || body.Comments[0].Analysis == nil {
			t.Errorf("got %s", r.Body)
		}
		_, d := lastAudit(t, e, "comments.list")
		if d["rows"] != float64(1) || d["redact"] != true {
			t.Errorf("audit: %v", d)
		}
	})
}

type listBody struct {
	Responses []struct {
		ID          string `json:"id"`
		SubmittedAt string `json:"submitted_at"`
		Answers     []struct {
			Question string `json:"question"`
			Value    any    `json:"value"`
		} `json:"answers"`
	} `json:"responses"`
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
}

// TestReportingPaginationUnderInserts pages through /api/v1/responses while
// other responses are being stored: every response is seen exactly once, in
// stored order, and the ones stored meanwhile arrive on later pages.
func TestReportingPaginationUnderInserts(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) { testPagination(t, apitest.NewWith(t, apitest.Options{Postgres: pg})) })
	}
}

func testPagination(t *testing.T, e *apitest.Env) {
	var before []string
	for i := 0; i < 23; i++ {
		before = append(before, store(t, e, "", nil))
	}
	q := e.Token("quality")
	var during []string
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 40; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := store(t, e, "Inserted while paging", nil)
			mu.Lock()
			during = append(during, id)
			mu.Unlock()
		}
	}()
	var seen []string
	cursor := ""
	page := func() listBody {
		r := q.Get("/api/v1/responses?limit=7&cursor=" + url.QueryEscape(cursor))
		if r.StatusCode != 200 {
			t.Fatalf("got %d %s", r.StatusCode, r.Body)
		}
		var b listBody
		r.Decode(t, &b)
		for _, x := range b.Responses {
			seen = append(seen, x.ID)
		}
		if b.NextCursor != nil {
			cursor = *b.NextCursor
		}
		return b
	}
	for b := page(); b.HasMore; b = page() {
	}
	close(stop)
	<-done
	// Whatever was stored after the last page comes from the same cursor.
	for b := page(); b.HasMore; b = page() {
	}
	want := append(slices.Clone(before), during...)
	if len(seen) != len(want) {
		t.Fatalf("saw %d responses, want %d", len(seen), len(want))
	}
	counts := map[string]int{}
	for _, id := range seen {
		counts[id]++
	}
	for _, id := range want {
		if counts[id] != 1 {
			t.Errorf("response %s seen %d times", id, counts[id])
		}
	}
	if !slices.Equal(seen[:len(before)], before) {
		t.Error("the responses stored first did not come first, in order")
	}
	_, d := lastAudit(t, e, "responses.list")
	if d["format"] != "json" {
		t.Errorf("audit: %v", d)
	}
}

func TestAuditViews(t *testing.T) {
	e := apitest.New(t)
	store(t, e, "=HYPERLINK(\"http://evil\")", nil)
	e.Token("quality").Get("/api/v1/export.csv")
	admin := e.Login("admin")
	page := admin.Get("/admin/audit?action=export.")
	if page.StatusCode != 200 || !strings.Contains(page.Body, "export.csv") {
		t.Fatalf("page: %d %.300s", page.StatusCode, page.Body)
	}
	var api struct {
		Entries []struct {
			Action string         `json:"action"`
			Detail map[string]any `json:"detail"`
		} `json:"entries"`
	}
	r := e.Token("admin").Get("/api/v1/audit?action=export.csv")
	r.Decode(t, &api)
	if len(api.Entries) != 1 || api.Entries[0].Detail["rows"] != float64(1) {
		t.Errorf("api: %s", r.Body)
	}
	c := admin.Get("/admin/audit.csv")
	rows := readCSV(t, c.Body)
	if c.StatusCode != 200 || len(rows) == 0 {
		t.Fatalf("csv: %d %s", c.StatusCode, c.Body)
	}
	found := false
	for _, row := range rows {
		if row["action"] == "export.csv" && strings.Contains(row["detail"], `"rows":1`) {
			found = true
		}
	}
	if !found {
		t.Errorf("export.csv entry missing from the audit CSV: %v", rows)
	}
	_, d := lastAudit(t, e, "audit.export")
	if d["rows"] != float64(len(rows)) {
		t.Errorf("audit of the audit export: %v, want rows %d", d, len(rows))
	}
}
