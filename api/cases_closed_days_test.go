package api_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/api/apitest"
)

// TestCaseClosedDays saves a bank holiday on the rules page and checks that a
// case opened before it is due a working day later; bad dates save nothing,
// on the page and through the JSON API.
func TestCaseClosedDays(t *testing.T) { eachEnv(t, testCaseClosedDays) }

func testCaseClosedDays(t *testing.T, e *apitest.Env) {
	caseSites(t, e)
	ctx := context.Background()
	page := e.Login("admin")
	api := e.Token("admin")
	ny, _ := time.LoadLocation("America/New_York")
	// Friday 6 March 2026, 15:00 in New York: due at the end of Tuesday.
	e.Now = time.Date(2026, 3, 6, 15, 0, 0, 0, ny)
	first := submitFFT(t, e, "north", 5, "", false)
	if k := caseOf(t, api, first); k.DueAt != "2026-03-11T00:00:00-04:00" {
		t.Fatalf("before closed days: due %s, want end of Tuesday", k.DueAt)
	}
	form := func(closed string) url.Values {
		return url.Values{"csrf": {page.CSRF}, "site": {"north"}, "fft_poor": {"1"}, "due_working_days": {"2"},
			"day": {"1", "2", "3", "4", "5"}, "closed_days": {closed}}
	}
	// Monday 9 March closed, typed out of order, repeated, comma and line separated.
	r := page.Form("/cases/rules", form("2026-03-09\r\n2026-03-02, 2026-03-09\r\n"))
	if r.StatusCode != 303 {
		t.Fatalf("rules form: got %d %s", r.StatusCode, r.Body)
	}
	// The case opened before the holiday was saved waits for first contact:
	// it is now due by the new calendar, and the page says one case moved.
	if k := caseOf(t, api, first); k.DueAt != "2026-03-12T00:00:00-04:00" {
		t.Fatalf("open case after closed days: due %s, want end of Wednesday", k.DueAt)
	}
	if loc := r.Header.Get("Location"); !strings.Contains(loc, "moved=1") {
		t.Fatalf("rules form redirect %q does not carry the rescheduled count", loc)
	}
	if r := page.Get("/cases/rules?saved=1&moved=1&site=north"); !strings.Contains(r.Body, "1 open case is now due by them.") {
		t.Fatalf("rules page does not say a case moved: %s", r.Body)
	}
	want := []string{"2026-03-02", "2026-03-09"}
	if rules, err := e.Store.CaseRules(ctx, "north"); err != nil || !slices.Equal(rules.ClosedDays, want) {
		t.Fatalf("saved closed days: %v %v, want %v", rules.ClosedDays, err, want)
	}
	if r := page.Get("/cases/rules?site=north"); !strings.Contains(r.Body, ">2026-03-02\n2026-03-09\n</textarea>") {
		t.Fatalf("rules page does not show the closed days sorted: %s", r.Body)
	}
	es, err := e.Store.AuditLog(ctx, 0, 1)
	if err != nil || len(es) != 1 || es[0].Action != "case_rules.save" || !strings.Contains(es[0].Detail, `"closed_days":["2026-03-02","2026-03-09"]`) {
		t.Fatalf("audit: %+v %v", es, err)
	}
	// The same Friday, now the Monday is closed: due at the end of Wednesday.
	if k := caseOf(t, api, submitFFT(t, e, "north", 5, "", false)); k.DueAt != "2026-03-12T00:00:00-04:00" {
		t.Fatalf("after closed days: due %s, want end of Wednesday", k.DueAt)
	}
	// Another site's calendar is its own.
	if k := caseOf(t, api, submitFFT(t, e, "central", 5, "", false)); k.DueAt != "2026-03-11T00:00:00-05:00" {
		t.Fatalf("central: due %s, want end of Tuesday", k.DueAt)
	}

	var many []string
	for d := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC); len(many) < 101; d = d.AddDate(0, 0, 1) {
		many = append(many, d.Format(time.DateOnly))
	}
	bad := []struct {
		name   string
		closed []string
		want   string
	}{
		{"no such day", []string{"2026-02-30"}, "is not a date"},
		{"day first", []string{"2026-12-25", "25/12/2026"}, "YYYY-MM-DD"},
		{"too many", many, "at most 100"},
	}
	for _, tt := range bad {
		r := page.Form("/cases/rules", form(strings.Join(tt.closed, "\n")))
		if r.StatusCode != 400 || !strings.Contains(r.Body, "closed_days: ") || !strings.Contains(r.Body, tt.want) {
			t.Errorf("page, %s: got %d, want 400 naming closed_days with %q", tt.name, r.StatusCode, tt.want)
		}
		j := api.JSON("PUT", "/api/v1/sites/north/case-rules", map[string]any{"due_working_days": 2,
			"working_days": []int{1, 2, 3, 4, 5}, "closed_days": tt.closed})
		var eb errorBody
		j.Decode(t, &eb)
		if j.StatusCode != 400 || !strings.Contains(eb.Fields["closed_days"], tt.want) {
			t.Errorf("API, %s: got %d %s, want 400 with fields.closed_days %q", tt.name, j.StatusCode, j.Body, tt.want)
		}
		if rules, _ := e.Store.CaseRules(ctx, "north"); !slices.Equal(rules.ClosedDays, want) {
			t.Fatalf("%s: bad input changed the closed days to %v", tt.name, rules.ClosedDays)
		}
	}

	// The JSON API reads and writes them too, sorted and without repeats;
	// none is [], not null.
	if r := api.Get("/api/v1/sites/central/case-rules"); !strings.Contains(r.Body, `"closed_days":[]`) {
		t.Fatalf("GET without closed days: %s", r.Body)
	}
	var out struct {
		Site             string   `json:"site"`
		ClosedDays       []string `json:"closed_days"`
		RescheduledCases int      `json:"rescheduled_cases"`
	}
	api.Get("/api/v1/sites/north/case-rules").Decode(t, &out)
	if !slices.Equal(out.ClosedDays, want) {
		t.Fatalf("GET closed_days: %v, want %v", out.ClosedDays, want)
	}
	j := api.JSON("PUT", "/api/v1/sites/north/case-rules", map[string]any{"fft_poor": true, "due_working_days": 2,
		"working_days": []int{1, 2, 3, 4, 5}, "closed_days": []string{"2026-12-28", "2026-12-25", "2026-12-28"}})
	if j.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", j.StatusCode, j.Body)
	}
	j.Decode(t, &out)
	want = []string{"2026-12-25", "2026-12-28"}
	if rules, _ := e.Store.CaseRules(ctx, "north"); !slices.Equal(out.ClosedDays, want) || !slices.Equal(rules.ClosedDays, want) {
		t.Fatalf("PUT closed_days: answered %v, stored %v, want %v", out.ClosedDays, rules.ClosedDays, want)
	}
	// March's Mondays are open again: both open March cases at north are due
	// at the end of Tuesday once more.
	if k := caseOf(t, api, first); out.RescheduledCases != 2 || k.DueAt != "2026-03-11T00:00:00-04:00" {
		t.Fatalf("PUT: rescheduled %d, first case due %s; want 2 and the end of Tuesday", out.RescheduledCases, k.DueAt)
	}
	// Christmas Eve 2026 is a Thursday; Friday and Monday closed: due at the end of Wednesday.
	e.Now = time.Date(2026, 12, 24, 9, 0, 0, 0, ny)
	if k := caseOf(t, api, submitFFT(t, e, "north", 5, "", false)); k.DueAt != "2026-12-31T00:00:00-05:00" {
		t.Fatalf("Christmas: due %s, want end of Wednesday 30 December", k.DueAt)
	}
}
