package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/demo"
	"github.com/carevoice/carevoice/storage"
)

var dashPages = []string{"/dashboard", "/dashboard/trends", "/dashboard/themes", "/dashboard/comments"}

var statsEndpoints = []string{"/api/v1/stats/summary", "/api/v1/stats/trend", "/api/v1/stats/themes"}

// dashEnv starts an app with two sites, north and south, and a few
// responses at each, submitted through the API like a patient's.
func dashEnv(t *testing.T, sites ...storage.Site) *apitest.Env {
	t.Helper()
	e := apitest.New(t)
	if len(sites) == 0 {
		sites = []storage.Site{
			{Slug: "north", Name: "North Clinic", TimeZone: "America/New_York", Departments: []storage.Department{{Slug: "cardiology", Name: "Cardiology"}}},
			{Slug: "south", Name: "South Clinic", TimeZone: "America/Los_Angeles", Departments: []storage.Department{{Slug: "family", Name: "Family"}}},
		}
	}
	for _, s := range sites {
		if err := e.Store.UpsertSite(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			dashSubmit(t, e, s.Slug, s.Departments[0].Slug, 1+i, "The wait was far too long but the nurse was kind")
		}
	}
	return e
}

func dashSubmit(t *testing.T, e *apitest.Env, site, dept string, fft int, comment string) {
	t.Helper()
	body := map[string]any{"id": uuid.NewString(), "survey": "fft", "site": site, "department": dept, "channel": "link",
		"answers": []map[string]any{{"question": "q1", "value": fft}, {"question": "q3", "value": comment}}}
	if r := e.Anon().JSON("POST", "/api/v1/responses", body); r.StatusCode != 201 {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
}

// TestDashboardAccess checks every page and stats endpoint for each kind of
// caller: a manager of the site, nobody, a kiosk key, and a manager asking
// for a site that is not theirs.
func TestDashboardAccess(t *testing.T) {
	e := dashEnv(t)
	manager := e.Login("manager", "north")
	kiosk, _ := e.Device("north")
	for _, p := range append(append([]string{}, dashPages...), statsEndpoints...) {
		isPage := !strings.HasPrefix(p, "/api/")
		t.Run(p, func(t *testing.T) {
			r := manager.Get(p)
			if r.StatusCode != 200 {
				t.Fatalf("manager: got %d %s, want 200", r.StatusCode, r.Body)
			}
			r = e.Anon().Get(p + "?period=7d")
			if isPage {
				if r.StatusCode != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login?next=") {
					t.Errorf("no session: got %d to %q, want 303 to /login", r.StatusCode, r.Header.Get("Location"))
				}
			} else if r.StatusCode != 401 {
				t.Errorf("no credentials: got %d, want 401", r.StatusCode)
			}
			if r := kiosk.Get(p); r.StatusCode != 403 {
				t.Errorf("kiosk key: got %d, want 403", r.StatusCode)
			}
			if r := manager.Get(p + "?site=south"); r.StatusCode != 403 {
				t.Errorf("manager of north asking for south: got %d, want 403", r.StatusCode)
			}
			for _, role := range []string{"quality", "admin"} {
				if r := e.Token(role).Get(p + "?site=south"); r.StatusCode != 200 {
					t.Errorf("%s: got %d %s, want 200", role, r.StatusCode, r.Body)
				}
			}
			if r := manager.Get(p + "?period=fortnight"); r.StatusCode != 400 {
				t.Errorf("bad period: got %d, want 400", r.StatusCode)
			}
		})
	}
}

// TestDashboardManagerSeesOnlyTheirSites checks that numbers and comments
// of another site don't leak into a manager's unfiltered view.
func TestDashboardManagerSeesOnlyTheirSites(t *testing.T) {
	e := dashEnv(t)
	dashSubmit(t, e, "south", "family", 5, "Secret south remark about parking")
	manager := e.Login("manager", "north")
	var sum struct {
		Data struct {
			Responses struct{ Current int } `json:"responses"`
		} `json:"data"`
	}
	manager.Get("/api/v1/stats/summary").Decode(t, &sum)
	if sum.Data.Responses.Current != 3 {
		t.Errorf("manager of north: got %d responses, want north's 3", sum.Data.Responses.Current)
	}
	for _, p := range dashPages {
		if b := manager.Get(p).Body; strings.Contains(b, "South Clinic") || strings.Contains(b, "Secret south") {
			t.Errorf("%s shows the other site to a manager of north", p)
		}
	}
	if b := e.Token("quality").Get("/dashboard/comments").Body; !strings.Contains(b, "Secret south") {
		t.Errorf("quality should see every site's comments")
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href|action|content)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import`)

// TestDashboardNoExternalRequests: pages load scripts and styles from our
// own /static only, ECharts included.
func TestDashboardNoExternalRequests(t *testing.T) {
	e := dashEnv(t)
	admin := e.Login("admin")
	for _, p := range dashPages {
		b := admin.Get(p + "?period=90d").Body
		if m := externalRef.FindString(b); m != "" {
			t.Errorf("%s references another host: %q", p, m)
		}
		if p != "/dashboard/comments" && !regexp.MustCompile(`<script src="/static/[0-9a-f]{12}/vendor/echarts\.min\.js"></script>`).MatchString(b) {
			t.Errorf("%s does not load ECharts from /static", p)
		}
		for _, src := range regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(b, -1) {
			if r := admin.Get(src[1]); r.StatusCode != 200 {
				t.Errorf("%s: asset %s: got %d", p, src[1], r.StatusCode)
			}
		}
	}
	// The charts' scripts carry the nonce the CSP allows.
	r := admin.Get("/dashboard/trends")
	csp := r.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("no nonce in CSP %q", csp)
	}
	scripts := regexp.MustCompile(`<script( [^>]*)?>`).FindAllStringSubmatch(r.Body, -1)
	if len(scripts) < 5 {
		t.Fatalf("got %d scripts on the trends page, want ECharts, four charts and the drill-down", len(scripts))
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], `nonce="`+m[1]+`"`) && !strings.Contains(s[1], `src="/static/`) {
			t.Errorf("script without the page nonce: %s", s[0])
		}
	}
	for _, want := range []string{`"saveAsImage"`, `class="chart-table"`, "#0072B2"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("trends page lacks %s (save as image, data table, colour-blind palette)", want)
		}
	}
}

// TestDashboardEscapesNames puts markup in a site, a department and a
// comment and checks that every page and chart shows it as text.
func TestDashboardEscapesNames(t *testing.T) {
	const evil = `</script><img src=x onerror=alert(1)>"' `
	site := storage.Site{Slug: "evil", Name: evil + "site", TimeZone: "UTC",
		Departments: []storage.Department{{Slug: "dept", Name: evil + "dept"}}}
	e := dashEnv(t, site)
	// Enough responses that the heatmap and rates show, with a comment
	// carrying markup and a theme so that the evidence is highlighted.
	for i := 0; i < 12; i++ {
		dashSubmit(t, e, "evil", "dept", 4, `<b>bold</b> & "quoted" — the wait was too long`)
	}
	admin := e.Login("admin")
	for _, p := range dashPages {
		b := admin.Get(p + "?period=7d").Body
		for _, bad := range []string{"<img src=x", "</script><img", "<b>bold</b>"} {
			if strings.Contains(b, bad) {
				i := strings.Index(b, bad)
				t.Errorf("%s: unescaped %q near %q", p, bad, b[max(0, i-80):min(len(b), i+80)])
			}
		}
	}
	themes := admin.Get("/dashboard/themes?period=7d").Body
	if !strings.Contains(themes, `\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Errorf("the heatmap's site label is not JS-escaped in the chart option")
	}
	comments := admin.Get("/dashboard/comments?period=7d").Body
	if !strings.Contains(comments, "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;") {
		t.Errorf("comment text not shown escaped")
	}
	if !regexp.MustCompile(`<mark>[^<]*wait[^<]*</mark>`).MatchString(comments) {
		t.Errorf("evidence phrase not highlighted with <mark>")
	}
}

// TestStatsSuppression checks "fewer than N" at the threshold in every
// stats endpoint: N−1 answers hide the rate, N show it.
func TestStatsSuppression(t *testing.T) {
	e := apitest.NewWith(t, apitest.Options{Config: apitestConfig(5)})
	if err := e.Store.UpsertSite(context.Background(), storage.Site{Slug: "tiny", Name: "Tiny", TimeZone: "UTC",
		Departments: []storage.Department{{Slug: "gp", Name: "GP"}}}); err != nil {
		t.Fatal(err)
	}
	tok := e.Token("quality")
	type rate struct {
		N          int      `json:"n"`
		Value      *float64 `json:"value"`
		Low        *float64 `json:"low"`
		Suppressed bool     `json:"suppressed"`
		Note       string   `json:"note"`
	}
	check := func(t *testing.T, name string, r rate, n int) {
		t.Helper()
		if n < 5 {
			if r.Value != nil || r.Low != nil || !r.Suppressed || r.Note != "fewer than 5" {
				t.Errorf("%s with %d answers: got %+v, want suppressed \"fewer than 5\"", name, n, r)
			}
		} else if r.Value == nil || r.Low == nil || r.Suppressed {
			t.Errorf("%s with %d answers: got %+v, want a value with its interval", name, n, r)
		}
	}
	for n := 1; n <= 5; n++ {
		dashSubmit(t, e, "tiny", "gp", 2, "The wait was long")
		if n < 4 {
			continue
		}
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q := "?period=7d&site=tiny"
			var sum struct {
				Data struct {
					FFTPositive struct{ Current rate } `json:"fft_positive"`
					NegComments struct{ Current rate } `json:"negative_comments"`
				} `json:"data"`
			}
			tok.Get("/api/v1/stats/summary"+q).Decode(t, &sum)
			check(t, "summary fft_positive", sum.Data.FFTPositive.Current, n)
			check(t, "summary negative_comments", sum.Data.NegComments.Current, n)
			var tr struct {
				Data struct {
					Points []struct {
						Responses   int             `json:"responses"`
						FFTPositive rate            `json:"fft_positive"`
						Sentiment   map[string]rate `json:"sentiment"`
					} `json:"points"`
				} `json:"data"`
			}
			tok.Get("/api/v1/stats/trend"+q+"&granularity=week").Decode(t, &tr)
			total := 0
			for _, p := range tr.Data.Points {
				if p.Responses > 0 {
					check(t, "trend fft_positive", p.FFTPositive, p.Responses)
					check(t, "trend negative", p.Sentiment["negative"], p.Responses)
				}
				total += p.Responses
			}
			if total != n {
				t.Errorf("trend: got %d responses, want %d", total, n)
			}
			var th struct {
				Data struct {
					Themes []struct {
						ID             string `json:"id"`
						Complaints     rate   `json:"complaints"`
						ComplaintCount *int   `json:"complaint_count"`
					} `json:"themes"`
				} `json:"data"`
			}
			tok.Get("/api/v1/stats/themes"+q).Decode(t, &th)
			for _, x := range th.Data.Themes {
				check(t, "themes "+x.ID, x.Complaints, n)
				if (x.ComplaintCount != nil) != (n >= 5) {
					t.Errorf("themes %s with %d comments: count shown = %v", x.ID, n, x.ComplaintCount != nil)
				}
			}
			page := tok.Get("/dashboard" + q).Body
			m := regexp.MustCompile(`FFT % positive</h3>\s*<p class="value">([^<]*)</p>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("overview has no FFT %% positive card")
			}
			if got := m[1] == "fewer than 5"; got != (n < 5) {
				t.Errorf("overview with %d answers: shows \"fewer than 5\" = %v", n, got)
			}
		})
	}
}

// TestDashboardComments checks the explorer's filters, search, escaping and
// cursor pagination over HTTP.
func TestDashboardComments(t *testing.T) {
	e := dashEnv(t)
	for i := 0; i < 30; i++ {
		dashSubmit(t, e, "north", "cardiology", 2, fmt.Sprintf("Comment number %02d about the parking", i))
	}
	admin := e.Login("admin")
	seen := map[string]bool{}
	next := "/dashboard/comments?site=north&q=" + url.QueryEscape("PARKING")
	pages := 0
	for next != "" && pages < 10 {
		pages++
		b := admin.Get(next).Body
		for _, m := range regexp.MustCompile(`Comment number (\d\d)`).FindAllStringSubmatch(b, -1) {
			if seen[m[1]] {
				t.Errorf("comment %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		if strings.Contains(b, "The wait was far too long") {
			t.Errorf("search for parking shows other comments")
		}
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(b); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 30 || pages != 2 {
		t.Errorf("got %d distinct comments over %d pages, want 30 over 2", len(seen), pages)
	}
	b := admin.Get("/dashboard/comments?theme=wait_times&polarity=negative").Body
	if !strings.Contains(b, "The wait was far too long") || strings.Contains(b, "Comment number") {
		t.Errorf("theme filter: wrong comments")
	}
	for _, bad := range []string{"theme=nope", "sentiment=angry", "after=xyz", "bucket=2026-13-01"} {
		if r := admin.Get("/dashboard/comments?" + bad); r.StatusCode != 400 {
			t.Errorf("%s: got %d, want 400", bad, r.StatusCode)
		}
	}
}

// TestDashboardDemoShowsWaitTrouble fills the demo's seasonal data and
// checks that the themes movers put wait times at north on top, rising.
func TestDashboardDemoShowsWaitTrouble(t *testing.T) {
	if testing.Short() {
		t.Skip("fills demo data")
	}
	e := apitest.New(t)
	now := time.Date(2026, 1, 25, 15, 0, 0, 0, time.UTC)
	e.Now = now
	an, err := analytics.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Fill(context.Background(), e.Store, an, e.Keys, demo.Options{Responses: 4000, Months: 12, Now: now}, nil); err != nil {
		t.Fatal(err)
	}
	admin := e.Token("admin")
	var th struct {
		Data struct {
			Movers []struct {
				Key    string `json:"key"`
				Change struct {
					Z           float64 `json:"z"`
					Significant bool    `json:"significant"`
				} `json:"change"`
			} `json:"movers"`
		} `json:"data"`
	}
	r := admin.Get("/api/v1/stats/themes?period=90d")
	r.Decode(t, &th)
	if len(th.Data.Movers) == 0 {
		t.Fatalf("no movers: %s", r.Body)
	}
	top := th.Data.Movers[0]
	if top.Key != "wait_times@"+demo.WaitTroubleSite || top.Change.Z <= 0 || !top.Change.Significant {
		t.Errorf("top mover: got %+v, want wait_times at north rising significantly (all: %+v)", top, th.Data.Movers[:min(3, len(th.Data.Movers))])
	}
	page := admin.Get("/dashboard/themes?period=90d").Body
	i := strings.Index(page, `<table class="movers">`)
	if i < 0 || !strings.Contains(page[i:min(len(page), i+1500)], "Wait times — North Clinic") {
		t.Errorf("the themes page does not list wait times at North Clinic among the movers")
	}
	ov := admin.Get("/dashboard?period=90d&site=north").Body
	if !regexp.MustCompile(`(?s)<ol class="rising">.*Wait times`).MatchString(ov) {
		t.Errorf("the overview of north does not name wait times as rising")
	}
	var js map[string]any
	if err := json.Unmarshal([]byte(admin.Get("/api/v1/stats/trend?period=12m").Body), &js); err != nil {
		t.Errorf("trend JSON: %v", err)
	}
	// The themes series (current period by bucket) and the sites (both
	// periods by site) are separate queries, and with month buckets one:
	// each must add up to the period's comments, bucket by bucket as the
	// trend counts them.
	for _, q := range []string{"?period=90d&granularity=day", "?period=12m&granularity=week", "?period=12m",
		"?period=12m&granularity=day&site=north", "?period=90d&granularity=week&channel=kiosk"} {
		var th struct {
			Data struct {
				Comments int `json:"comments"`
				Series   []struct {
					Key      string `json:"key"`
					Comments int    `json:"comments"`
				} `json:"series"`
				Sites []struct {
					Comments int `json:"comments"`
				} `json:"sites"`
			} `json:"data"`
		}
		var tr struct {
			Data struct {
				Points []struct {
					Key      string `json:"key"`
					Comments int    `json:"comments"`
				} `json:"points"`
			} `json:"data"`
		}
		admin.Get("/api/v1/stats/themes"+q).Decode(t, &th)
		admin.Get("/api/v1/stats/trend"+q).Decode(t, &tr)
		if th.Data.Comments == 0 || len(th.Data.Series) != len(tr.Data.Points) {
			t.Fatalf("%s: %d comments, %d buckets, trend %d", q, th.Data.Comments, len(th.Data.Series), len(tr.Data.Points))
		}
		inSeries, inSites := 0, 0
		for i, b := range th.Data.Series {
			if p := tr.Data.Points[i]; b.Key != p.Key || b.Comments != p.Comments {
				t.Errorf("%s: bucket %d is %s with %d comments, the trend's %s with %d", q, i, b.Key, b.Comments, p.Key, p.Comments)
			}
			inSeries += b.Comments
		}
		for _, st := range th.Data.Sites {
			inSites += st.Comments
		}
		if inSeries != th.Data.Comments || inSites != th.Data.Comments {
			t.Errorf("%s: %d comments, %d in the series, %d in the sites", q, th.Data.Comments, inSeries, inSites)
		}
	}
	// The themes, sites and movers do not depend on the buckets, though
	// each granularity gets them from other queries.
	for _, q := range []string{"?period=90d", "?period=90d&channel=link", "?period=12m&site=north"} {
		var want string
		for _, g := range []string{"day", "week", "month"} {
			var th struct {
				Data struct {
					Themes json.RawMessage `json:"themes"`
					Sites  json.RawMessage `json:"sites"`
					Movers json.RawMessage `json:"movers"`
				} `json:"data"`
			}
			admin.Get("/api/v1/stats/themes"+q+"&granularity="+g).Decode(t, &th)
			got := string(th.Data.Themes) + string(th.Data.Sites) + string(th.Data.Movers)
			if want == "" {
				want = got
			} else if got != want {
				t.Errorf("%s: granularity %s gives other themes, sites or movers than day:\n%s\n%s", q, g, got, want)
			}
		}
	}
}

func apitestConfig(minCell int) api.Config { return api.Config{MinCell: minCell} }
