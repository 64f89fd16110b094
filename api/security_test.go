package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// The security suite: what docs/security.md promises, tried from outside
// through the real app and a real database.

// secClock points the app's and the store's clocks at one moving time.
func secClock(e *apitest.Env) *time.Time {
	e.Now = time.Now()
	e.Store.Now = func() time.Time { return e.Now }
	return &e.Now
}

func secResponse(t *testing.T, e *apitest.Env, site, comment string, contact map[string]any) string {
	t.Helper()
	id := uuid.NewString()
	body := map[string]any{"id": id, "survey": "fft", "site": site, "channel": "link",
		"answers": []map[string]any{{"question": "q1", "value": 4}, {"question": "q3", "value": comment}}}
	if contact != nil {
		body["contact"] = contact
	}
	if r := e.Anon().JSON("POST", "/api/v1/responses", body); r.StatusCode != 201 {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	return id
}

func secSite(t *testing.T, e *apitest.Env, slug, name string, depts ...storage.Department) {
	t.Helper()
	if err := e.Store.UpsertSite(context.Background(), storage.Site{Slug: slug, Name: name, TimeZone: "UTC", Departments: depts}); err != nil {
		t.Fatal(err)
	}
}

func secCountTokens(t *testing.T, e *apitest.Env) int {
	ts, err := e.Store.APITokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// TestCSRF: every state change made with a session cookie needs the
// session's CSRF token; missing or wrong, it is refused and changes nothing.
func TestCSRF(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	respID := secResponse(t, e, "main", "fine", nil)
	other := e.Login(storage.RoleAdmin) // its token is "wrong" for the others
	cases := []struct {
		name    string
		role    string
		do      func(c *apitest.Client) *apitest.Response
		changed func() bool
	}{
		{"create token", "admin", func(c *apitest.Client) *apitest.Response {
			return c.JSON("POST", "/api/v1/tokens", map[string]any{"role": "admin", "name": "x"})
		}, func() bool { return secCountTokens(t, e) > 0 }},
		{"register device", "admin", func(c *apitest.Client) *apitest.Response {
			return c.JSON("POST", "/api/v1/devices", map[string]any{"site": "main", "name": "tab"})
		}, func() bool { ds, _ := e.Store.Devices(ctx); return len(ds) > 0 }},
		{"create user form", "admin", func(c *apitest.Client) *apitest.Response {
			return c.Form("/admin/users", url.Values{"email": {"new@example.org"}, "role": {"quality"}, "csrf": {c.CSRF}})
		}, func() bool { _, err := e.Store.UserByEmail(ctx, "new@example.org"); return err == nil }},
		{"save site form", "admin", func(c *apitest.Client) *apitest.Response {
			return c.Form("/admin/sites", url.Values{"slug": {"east"}, "name": {"East"}, "time_zone": {"UTC"}, "csrf": {c.CSRF}})
		}, func() bool { _, err := e.Store.Site(ctx, "east"); return err == nil }},
		{"update survey", "admin", func(c *apitest.Client) *apitest.Response {
			var def map[string]any
			e.Anon().Get("/api/v1/surveys/nps").Decode(t, &def)
			return c.JSON("PUT", "/api/v1/surveys/nps", def)
		}, func() bool { d, _ := e.Store.Survey(ctx, "nps"); return d.Version > 1 }},
		{"invite patients", "manager", func(c *apitest.Client) *apitest.Response {
			return c.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "main"})
		}, func() bool {
			es, _ := e.Store.AuditLog(ctx, 0, 100)
			for _, x := range es {
				if x.Action == "invitations.create" {
					return true
				}
			}
			return false
		}},
		{"delete response", "admin", func(c *apitest.Client) *apitest.Response {
			return c.Do("DELETE", "/api/v1/responses/"+respID, nil, "")
		}, func() bool { _, err := e.Store.ResponseByID(ctx, respID); return err != nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.Login(tc.role, "main")
			good := c.CSRF
			for _, bad := range []struct{ name, token string }{{"missing", ""}, {"wrong", other.CSRF}, {"garbage", "abc"}} {
				c.CSRF = bad.token
				got := tc.do(c)
				if got.StatusCode != 403 || !strings.Contains(strings.ToLower(got.Body), "csrf") {
					t.Errorf("%s token: got %d %.100q, want 403 naming CSRF", bad.name, got.StatusCode, got.Body)
				}
				if tc.changed() {
					t.Fatalf("%s token: the change was made", bad.name)
				}
			}
			// With the right token the same call works, so the refusals
			// above were the CSRF check and nothing else.
			c.CSRF = good
			if got := tc.do(c); got.StatusCode >= 400 {
				t.Errorf("right token: got %d %.200q", got.StatusCode, got.Body)
			}
			if !tc.changed() {
				t.Error("right token: nothing changed")
			}
		})
	}
	t.Run("logout", func(t *testing.T) {
		c := e.Login("quality")
		good := c.CSRF
		c.CSRF = ""
		if got := c.Do("POST", "/logout", nil, ""); got.StatusCode != 403 {
			t.Errorf("logout without token: %d, want 403", got.StatusCode)
		}
		if got := c.Get("/api/v1/sites"); got.StatusCode != 200 {
			t.Errorf("session after refused logout: %d, want still signed in", got.StatusCode)
		}
		c.CSRF = good
		if got := c.Form("/logout", url.Values{"csrf": {good}}); got.StatusCode != 303 {
			t.Errorf("logout: %d, want 303", got.StatusCode)
		}
	})
	t.Run("bearer tokens need none", func(t *testing.T) {
		if got := e.Token("admin").JSON("POST", "/api/v1/devices", map[string]any{"site": "main", "name": "t2"}); got.StatusCode != 201 {
			t.Errorf("bearer: %d %s, want 201", got.StatusCode, got.Body)
		}
	})
	t.Run("patient forms need none", func(t *testing.T) {
		// A staff member filling in a patient form in the same browser
		// is not blocked: public routes take no CSRF token.
		c := e.Login("quality")
		c.CSRF = ""
		body := map[string]any{"id": uuid.NewString(), "survey": "fft", "site": "main", "channel": "link",
			"answers": []map[string]any{{"question": "q1", "value": 1}}}
		if got := c.JSON("POST", "/api/v1/responses", body); got.StatusCode != 201 {
			t.Errorf("submit with a session cookie: %d %s, want 201", got.StatusCode, got.Body)
		}
	})
}

const xss = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`

// rawXSS finds the payload, or a piece of it, unescaped.
var rawXSS = regexp.MustCompile(`<script>alert\(1\)|<img src=x onerror|</script><img`)

// TestXSSEscaped puts a payload into every text field a person can write
// and fetches every GET route with the right parameters: the payload must
// never come back raw (HTML, chart JavaScript, JSON), and comes back escaped
// where a page shows it.
func TestXSSEscaped(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	admin := e.Login(storage.RoleAdmin)
	secSite(t, e, "xsite", "Site "+xss, storage.Department{Slug: "xdept", Name: "Dept " + xss})
	if err := e.Store.UpsertSite(ctx, storage.Site{Slug: "xsite", Name: "Site " + xss, TimeZone: "UTC",
		Providers: []storage.Provider{{Slug: "xprov", Name: "Dr " + xss}}}); err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	e.Anon().Get("/api/v1/surveys/fft").Decode(t, &def)
	def["slug"], def["title"] = "xsurvey", map[string]string{"en": "Survey " + xss, "es": "Encuesta " + xss}
	if r := admin.JSON("POST", "/api/v1/surveys", def); r.StatusCode != 201 {
		t.Fatalf("create survey: %d %s", r.StatusCode, r.Body)
	}
	var ids []string
	for i := 0; i < 12; i++ { // enough to pass small-number suppression
		ids = append(ids, secResponse(t, e, "xsite", "Comment "+xss+" the wait was long", map[string]any{
			"ok_to_contact": true, "name": "Name " + xss, "email": "a@example.org", "phone": "0123 456789"}))
	}
	// Users, devices and tokens carry text too.
	if r := admin.Form("/admin/devices", url.Values{"site": {"xsite"}, "name": {"Tablet " + xss}, "csrf": {admin.CSRF}}); r.StatusCode != 201 {
		t.Fatalf("device: %d %s", r.StatusCode, r.Body)
	}
	if r := admin.Form("/admin/tokens", url.Values{"name": {"Tok " + xss}, "role": {"quality"}, "expires_in_hours": {"2"}, "csrf": {admin.CSRF}}); r.StatusCode != 201 {
		t.Fatalf("token: %d %s", r.StatusCode, r.Body)
	}
	params := map[string]string{":survey": "xsurvey", ":site": "xsite", ":slug": "xsurvey", ":id": ids[0], ":hash": "x", "*": "css/app.css"}
	var caseIDs []string
	if _, ok := e.Server.PermissionFor("GET", "/api/v1/cases"); ok {
		var list []map[string]any
		var wrapped struct{ Cases []map[string]any }
		r := admin.Get("/api/v1/cases")
		if json.Unmarshal([]byte(r.Body), &list) != nil {
			json.Unmarshal([]byte(r.Body), &wrapped)
			list = wrapped.Cases
		}
		for _, c := range list {
			caseIDs = append(caseIDs, fmt.Sprint(c["id"]))
		}
	}
	var fetched int
	for _, r := range routeTable(t, e) {
		if r.Method != "GET" {
			continue
		}
		path := paramRE.ReplaceAllStringFunc(r.Path, func(p string) string {
			if v, ok := params[strings.TrimSuffix(p, "?")]; ok {
				return v
			}
			return "1"
		})
		paths := []string{path, path + "?site=xsite&survey=xsurvey&department=xdept"}
		if strings.Contains(r.Path, "/cases/:id") {
			for _, id := range caseIDs {
				paths = append(paths, strings.Replace(r.Path, ":id", id, 1))
			}
		}
		for _, p := range paths {
			for _, c := range []*apitest.Client{admin, e.Anon()} {
				got := c.Get(p)
				fetched++
				if strings.HasPrefix(got.Header.Get("Content-Type"), "text/csv") {
					// CSV holds the text as written (that is the export's
					// job); it must never be taken for a page.
					if got.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(got.Header.Get("Content-Disposition"), "attachment") {
						t.Errorf("GET %s: CSV without nosniff and attachment", p)
					}
					continue
				}
				if m := rawXSS.FindString(got.Body); m != "" {
					t.Errorf("GET %s (%d): payload comes back raw: %q", p, got.StatusCode, m)
				}
			}
		}
	}
	if fetched < 20 {
		t.Fatalf("only %d fetches", fetched)
	}
	// Where pages show the fields, they show them escaped.
	escaped := `&lt;script&gt;alert(1)&lt;/script&gt;`
	for _, c := range []struct{ path, what string }{
		{"/admin/sites", "site, department and provider names"},
		{"/admin/devices", "device names"},
		{"/admin/tokens", "token names"},
		{"/f/xsurvey?site=xsite&department=xdept", "survey title"},
		{"/dashboard/comments?site=xsite", "comments"},
		{"/dashboard?site=xsite", "site name"},
	} {
		route, _, _ := strings.Cut(c.path, "?")
		if _, ok := e.Server.PermissionFor("GET", route); !ok {
			continue
		}
		got := admin.Get(c.path)
		if n := strings.Count(got.Body, escaped); n == 0 {
			t.Errorf("%s: %s not shown escaped (status %d)", c.path, c.what, got.StatusCode)
		}
	}
	// Chart options are JavaScript: the site name is there JSON-escaped.
	if _, ok := e.Server.PermissionFor("GET", "/dashboard/themes"); ok {
		if got := admin.Get("/dashboard/themes?site=xsite"); !strings.Contains(got.Body, `\u003cscript\u003e`) {
			t.Errorf("themes chart: site name not escaped as JavaScript data")
		}
	}
	// JSON escapes < and > as well, so a JSON body sniffed as HTML is inert.
	if got := admin.Get("/api/v1/responses/" + ids[0]); !strings.Contains(got.Body, `\u003cscript\u003e`) {
		t.Errorf("response JSON: comment not escaped: %.200s", got.Body)
	}
}

// TestSQLInputStoredVerbatim: text that looks like SQL is data.
func TestSQLInputStoredVerbatim(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	inputs := []string{
		`Robert'); DROP TABLE responses;--`,
		`1' OR '1'='1`,
		`"; DELETE FROM users WHERE ''='`,
		`\'; SELECT pg_sleep(10); --`,
		`%_*?[]{}$1`,
	}
	q := e.Token("quality")
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			id := secResponse(t, e, "main", in, nil)
			var got struct {
				Answers []struct {
					Question string
					Value    any
				}
			}
			q.Get("/api/v1/responses/"+id).Decode(t, &got)
			var text any
			for _, a := range got.Answers {
				if a.Question == "q3" {
					text = a.Value
				}
			}
			if text != in {
				t.Errorf("stored %q, want %q verbatim", text, in)
			}
			// As a login email: refused like any unknown account (each
			// costs a full bcrypt check, so two are enough).
			if in != inputs[0] && in != inputs[1] {
				return
			}
			if r := e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": in, "password": "x"}); r.StatusCode != 401 {
				t.Errorf("login with %q: %d, want 401", in, r.StatusCode)
			}
		})
	}
	admin := e.Login(storage.RoleAdmin)
	name := `x'); DELETE FROM sites; --`
	if r := admin.Form("/admin/sites", url.Values{"slug": {"sqlsite"}, "name": {name}, "csrf": {admin.CSRF}}); r.StatusCode != 303 {
		t.Fatalf("save site: %d %s", r.StatusCode, r.Body)
	}
	if s, err := e.Store.Site(ctx, "sqlsite"); err != nil || s.Name != name {
		t.Errorf("site name %+v %v, want %q", s, err, name)
	}
	if n, _ := e.Store.CountResponses(ctx); n != int64(len(inputs)) {
		t.Errorf("responses: %d, want %d", n, len(inputs))
	}
}

// TestTokensRefused: expired, reused, revoked and forged credentials of
// every kind are refused.
func TestTokensRefused(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	now := secClock(e)
	admin := e.Token(storage.RoleAdmin)
	secSite(t, e, "north", "North")

	t.Run("bearer", func(t *testing.T) {
		tok, hash := secure.NewToken("cvt_")
		if err := e.Store.CreateAPIToken(ctx, &storage.APIToken{Name: "old", TokenHash: hash, Role: "admin", ExpiresAt: now.Add(-time.Second).UnixMilli()}); err != nil {
			t.Fatal(err)
		}
		expired := e.Anon()
		expired.Bearer = tok
		forged := e.Anon()
		forged.Bearer = "cvt_" + strings.Repeat("A", 43)
		live := e.Token(storage.RoleQuality)
		if r := live.Get("/api/v1/sites"); r.StatusCode != 200 {
			t.Fatalf("live token: %d", r.StatusCode)
		}
		ts, _ := e.Store.APITokens(ctx)
		var liveID int64
		for _, x := range ts {
			if x.Role == storage.RoleQuality {
				liveID = x.ID
			}
		}
		if r := admin.Do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", liveID), nil, ""); r.StatusCode != 204 {
			t.Fatalf("revoke: %d %s", r.StatusCode, r.Body)
		}
		for name, c := range map[string]*apitest.Client{"expired": expired, "forged": forged, "revoked": live} {
			if r := c.Get("/api/v1/sites"); r.StatusCode != 401 {
				t.Errorf("%s bearer token: %d, want 401", name, r.StatusCode)
			}
		}
		// A token is scoped by its role: quality may not make tokens.
		if r := e.Token(storage.RoleQuality).JSON("POST", "/api/v1/tokens", map[string]any{"role": "admin", "name": "up"}); r.StatusCode != 403 {
			t.Errorf("quality token making an admin token: %d, want 403", r.StatusCode)
		}
	})

	t.Run("invitation", func(t *testing.T) {
		var out struct{ Invitations []struct{ Token string } }
		r := admin.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "main", "count": 2, "expires_in_hours": 1})
		r.Decode(t, &out)
		if len(out.Invitations) != 2 || len(out.Invitations[0].Token) < 22 {
			t.Fatalf("invitations: %s", r.Body)
		}
		used, expiring := out.Invitations[0].Token, out.Invitations[1].Token
		send := func(tok string) *apitest.Response {
			return e.Anon().JSON("POST", "/api/v1/responses", map[string]any{"id": uuid.NewString(), "survey": "fft", "site": "main",
				"channel": "invite", "token": tok, "answers": []map[string]any{{"question": "q1", "value": 1}}})
		}
		if r := send(used); r.StatusCode != 201 {
			t.Fatalf("first use: %d %s", r.StatusCode, r.Body)
		}
		if r := send(used); r.StatusCode != 410 {
			t.Errorf("reused invitation: %d, want 410", r.StatusCode)
		}
		if r := e.Anon().Get("/s/" + used); r.StatusCode != 410 {
			t.Errorf("reused invitation page: %d, want 410", r.StatusCode)
		}
		if r := send("forged-" + strings.Repeat("x", 40)); r.StatusCode != 410 {
			t.Errorf("forged invitation: %d, want 410", r.StatusCode)
		}
		if r := e.Anon().Get("/s/forged"); r.StatusCode != 404 {
			t.Errorf("forged invitation page: %d, want 404", r.StatusCode)
		}
		*now = now.Add(2 * time.Hour)
		if r := send(expiring); r.StatusCode != 410 {
			t.Errorf("expired invitation: %d, want 410", r.StatusCode)
		}
		if r := e.Anon().Get("/s/" + expiring); r.StatusCode != 410 {
			t.Errorf("expired invitation page: %d, want 410", r.StatusCode)
		}
	})

	t.Run("kiosk", func(t *testing.T) {
		*now = time.Now()
		kiosk, dev := e.Device("main")
		body := func(site string) map[string]any {
			return map[string]any{"id": uuid.NewString(), "survey": "fft", "site": site, "channel": "kiosk",
				"answers": []map[string]any{{"question": "q1", "value": 1}}}
		}
		before, _ := e.Store.CountResponses(ctx)
		if r := kiosk.JSON("POST", "/api/v1/responses", body("north")); r.StatusCode != 403 {
			t.Errorf("kiosk key for another site: %d, want 403", r.StatusCode)
		}
		if after, _ := e.Store.CountResponses(ctx); after != before {
			t.Error("the other site's response was stored")
		}
		if r := kiosk.JSON("POST", "/api/v1/responses", body("main")); r.StatusCode != 201 {
			t.Fatalf("own site: %d %s", r.StatusCode, r.Body)
		}
		if r := admin.Do("DELETE", "/api/v1/devices/"+dev.ID, nil, ""); r.StatusCode != 204 {
			t.Fatalf("revoke device: %d", r.StatusCode)
		}
		forged := e.Anon()
		forged.Kiosk = strings.Repeat("k", 43)
		for name, c := range map[string]*apitest.Client{"revoked": kiosk, "forged": forged} {
			if r := c.JSON("POST", "/api/v1/responses", body("main")); r.StatusCode != 401 {
				t.Errorf("%s kiosk key: %d, want 401", name, r.StatusCode)
			}
			if r := e.Anon().Get("/kiosk/" + c.Kiosk); r.StatusCode != 404 {
				t.Errorf("%s kiosk page: %d, want 404", name, r.StatusCode)
			}
		}
	})

	t.Run("session", func(t *testing.T) {
		*now = time.Now()
		check := func(c *apitest.Client) int { return c.Get("/api/v1/sites").StatusCode }
		// Idle: 30 minutes without a request ends a session.
		idle := e.Login(storage.RoleQuality)
		*now = now.Add(29 * time.Minute)
		if got := check(idle); got != 200 {
			t.Fatalf("after 29 idle minutes: %d, want 200", got)
		}
		*now = now.Add(31 * time.Minute)
		if got := check(idle); got != 401 {
			t.Errorf("after 31 idle minutes: %d, want 401", got)
		}
		// Absolute: 12 hours however active.
		busy := e.Login(storage.RoleQuality)
		for i := 0; i < 12*3-1; i++ {
			*now = now.Add(20 * time.Minute)
			if got := check(busy); got != 200 {
				t.Fatalf("active session after %v: %d, want 200", time.Duration(i+1)*20*time.Minute, got)
			}
		}
		*now = now.Add(20*time.Minute + time.Second)
		if got := check(busy); got != 401 {
			t.Errorf("active session after 12h: %d, want 401", got)
		}
		// Logout ends the session on the server: the old cookie is dead.
		out := e.Login(storage.RoleQuality)
		if r := out.Do("POST", "/api/v1/auth/logout", nil, ""); r.StatusCode != 204 {
			t.Fatalf("logout: %d %s", r.StatusCode, r.Body)
		}
		if got := check(out); got != 401 {
			t.Errorf("cookie after logout: %d, want 401", got)
		}
		forged := e.Anon()
		forged.Cookie = strings.Repeat("s", 43)
		if got := check(forged); got != 401 {
			t.Errorf("forged session cookie: %d, want 401", got)
		}
	})
}

// TestBruteForceLockout: wrong passwords lock the account (429) whatever
// is tried next, the answer never says whether an account exists, and an
// admin's clear lets the person in again.
func TestBruteForceLockout(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			bruteForce(t, apitest.NewWith(t, apitest.Options{Postgres: pg}))
		})
	}
}

func bruteForce(t *testing.T, e *apitest.Env) {
	secClock(e)
	pw := e.CreateUser("ann@example.org", storage.RoleQuality)
	login := func(email, pass string) *apitest.Response {
		return e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pass})
	}
	unknown, wrong := login("nobody@example.org", "wrong password 1"), login("ann@example.org", "wrong password 1")
	if unknown.StatusCode != 401 || wrong.StatusCode != 401 || unknown.Body != wrong.Body {
		t.Errorf("unknown account %d %s vs wrong password %d %s: want the same 401", unknown.StatusCode, unknown.Body, wrong.StatusCode, wrong.Body)
	}
	for i := 0; i < 4; i++ {
		login("ANN@example.org", fmt.Sprintf("guess %d", i))
	}
	if r := login("ann@example.org", pw); r.StatusCode != 429 {
		t.Fatalf("right password after 5 failures: %d, want 429 (locked)", r.StatusCode)
	}
	// The HTML form is locked too.
	form := e.Anon()
	form.Header = http.Header{"Cookie": {"cv_login=abc"}}
	if r := form.Form("/login", url.Values{"email": {"ann@example.org"}, "password": {pw}, "login_csrf": {"abc"}}); r.StatusCode != 429 {
		t.Errorf("login form while locked: %d, want 429", r.StatusCode)
	}
	admin := e.Login(storage.RoleAdmin)
	page := admin.Get("/admin/users")
	if !strings.Contains(page.Body, "ann@example.org") || !strings.Contains(page.Body, "account: ann@example.org") {
		t.Errorf("admin users page does not list the lock")
	}
	if r := admin.Form("/admin/locks/clear", url.Values{"kind": {"account"}, "value": {"ann@example.org"}, "csrf": {admin.CSRF}}); r.StatusCode != 303 {
		t.Fatalf("clear: %d %s", r.StatusCode, r.Body)
	}
	if r := login("ann@example.org", pw); r.StatusCode != 200 {
		t.Errorf("after the admin's clear: %d %s, want 200", r.StatusCode, r.Body)
	}
	es, _ := e.Store.AuditLog(context.Background(), 0, 100)
	actions := map[string]int{}
	for _, x := range es {
		actions[x.Action]++
	}
	if actions["login.failure"] < 5 || actions["login.locked"] < 1 || actions["login.unlock"] != 1 || actions["login.success"] < 2 {
		t.Errorf("audit actions %v: want failures, a lock, the unlock and successes", actions)
	}
}

// TestPasswordChange: the current password is needed, the policy applies,
// and every other session of the account ends.
func TestPasswordChange(t *testing.T) {
	e := apitest.New(t)
	pw := e.CreateUser("bo@example.org", storage.RoleManager, "main")
	a, b := e.LoginAs("bo@example.org", pw), e.LoginAs("bo@example.org", pw)
	change := func(cur, next, again string) *apitest.Response {
		return a.Form("/account/password", url.Values{"current": {cur}, "password": {next}, "confirm": {again}, "csrf": {a.CSRF}})
	}
	const next = "plum lantern orbit velvet"
	for _, tc := range []struct {
		name, cur, next, again string
		status                 int
	}{
		{"wrong current", "not it at all", next, next, 400},
		{"mismatch", pw, next, next + "x", 400},
		{"too short", pw, "short", "short", 400},
		{"common", pw, "password123456", "password123456", 400},
	} {
		if r := change(tc.cur, tc.next, tc.again); r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
	}
	if r := b.Get("/api/v1/sites"); r.StatusCode != 200 {
		t.Fatalf("refused changes ended the other session: %d", r.StatusCode)
	}
	if r := change(pw, next, next); r.StatusCode != 200 || !strings.Contains(r.Body, "signed out everywhere else") {
		t.Fatalf("change: %d %.300s", r.StatusCode, r.Body)
	}
	if r := b.Get("/api/v1/sites"); r.StatusCode != 401 {
		t.Errorf("other session after the change: %d, want 401", r.StatusCode)
	}
	if r := a.Get("/api/v1/sites"); r.StatusCode != 200 {
		t.Errorf("the changing session: %d, want 200", r.StatusCode)
	}
	if r := e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": "bo@example.org", "password": pw}); r.StatusCode != 401 {
		t.Errorf("old password: %d, want 401", r.StatusCode)
	}
	e.LoginAs("bo@example.org", next)
}

// TestAdminManagesUsers: create, change role and sites, disable; each in
// the audit log; an admin cannot lock themselves out.
func TestAdminManagesUsers(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	secSite(t, e, "north", "North")
	admin := e.Login(storage.RoleAdmin)
	r := admin.Form("/admin/users", url.Values{"email": {"cy@example.org"}, "role": {"manager"}, "sites": {"north"}, "csrf": {admin.CSRF}})
	if r.StatusCode != 201 {
		t.Fatalf("create: %d %.300s", r.StatusCode, r.Body)
	}
	m := regexp.MustCompile(`<code>([A-Za-z0-9_-]{24})</code>`).FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatal("the generated password is not shown")
	}
	cy := e.LoginAs("cy@example.org", m[1])
	u, _ := e.Store.UserByEmail(ctx, "cy@example.org")
	if u.Role != "manager" || u.Sites != "north" {
		t.Fatalf("created %+v", u)
	}
	bad := []url.Values{
		{"role": {"root"}},
		{"role": {"manager"}, "sites": {"nowhere"}},
	}
	for _, v := range bad {
		v.Set("csrf", admin.CSRF)
		if r := admin.Form(fmt.Sprintf("/admin/users/%d", u.ID), v); r.StatusCode != 400 {
			t.Errorf("update %v: %d, want 400", v, r.StatusCode)
		}
	}
	if r := admin.Form(fmt.Sprintf("/admin/users/%d", u.ID), url.Values{"role": {"quality"}, "sites": {""}, "csrf": {admin.CSRF}}); r.StatusCode != 303 {
		t.Fatalf("change role: %d %s", r.StatusCode, r.Body)
	}
	if r := cy.Get("/api/v1/sites"); r.StatusCode != 200 {
		t.Errorf("session after role change: %d", r.StatusCode)
	}
	if r := cy.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "north"}); r.StatusCode != 403 {
		t.Errorf("quality (was manager) inviting: %d, want 403 at once", r.StatusCode)
	}
	if r := admin.Form(fmt.Sprintf("/admin/users/%d", u.ID), url.Values{"role": {"quality"}, "disabled": {"on"}, "csrf": {admin.CSRF}}); r.StatusCode != 303 {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if r := cy.Get("/api/v1/sites"); r.StatusCode != 401 {
		t.Errorf("disabled user's session: %d, want 401", r.StatusCode)
	}
	if r := e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": "cy@example.org", "password": m[1]}); r.StatusCode != 401 {
		t.Errorf("disabled user's login: %d, want 401", r.StatusCode)
	}
	me, _ := e.Store.Users(ctx)
	for _, x := range me {
		if x.Role == "admin" {
			if r := admin.Form(fmt.Sprintf("/admin/users/%d", x.ID), url.Values{"role": {"admin"}, "disabled": {"on"}, "csrf": {admin.CSRF}}); r.StatusCode != 400 {
				t.Errorf("self-disable: %d, want 400", r.StatusCode)
			}
		}
	}
	es, _ := e.Store.AuditLog(ctx, 0, 100)
	got := map[string]int{}
	for _, x := range es {
		if x.Target == "cy@example.org" {
			got[x.Action]++
		}
	}
	if got["user.create"] != 1 || got["user.update"] != 2 {
		t.Errorf("audit for cy: %v, want 1 create and 2 updates", got)
	}
}

// TestErasure: an admin deletes one response (a patient's request); it is
// gone from the API, the deletion is audited, and other roles may not.
func TestErasure(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	id := secResponse(t, e, "main", "please forget me", map[string]any{"ok_to_contact": true, "name": "Dee", "phone": "0123 456789"})
	if r := e.Token(storage.RoleQuality).Do("DELETE", "/api/v1/responses/"+id, nil, ""); r.StatusCode != 403 {
		t.Errorf("quality deleting: %d, want 403", r.StatusCode)
	}
	if r := e.Login(storage.RoleManager).Do("DELETE", "/api/v1/responses/"+id, nil, ""); r.StatusCode != 403 {
		t.Errorf("manager deleting: %d, want 403", r.StatusCode)
	}
	admin := e.Login(storage.RoleAdmin)
	if r := admin.Do("DELETE", "/api/v1/responses/"+id, nil, ""); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if r := admin.Get("/api/v1/responses/" + id); r.StatusCode != 404 {
		t.Errorf("read after delete: %d, want 404", r.StatusCode)
	}
	if r := admin.Do("DELETE", "/api/v1/responses/"+id, nil, ""); r.StatusCode != 404 {
		t.Errorf("second delete: %d, want 404", r.StatusCode)
	}
	// The admin page form does the same.
	id2 := secResponse(t, e, "main", "me too", nil)
	if r := admin.Form("/admin/responses/delete", url.Values{"id": {id2}, "csrf": {admin.CSRF}}); r.StatusCode != 400 {
		t.Errorf("without confirmation: %d, want 400", r.StatusCode)
	}
	if r := admin.Form("/admin/responses/delete", url.Values{"id": {id2}, "confirm": {"on"}, "csrf": {admin.CSRF}}); r.StatusCode != 303 {
		t.Errorf("form delete: %d %s", r.StatusCode, r.Body)
	}
	es, _ := e.Store.AuditLog(ctx, 0, 50)
	n := 0
	for _, x := range es {
		if x.Action == "response.delete" && (x.Target == id || x.Target == id2) {
			n++
			if strings.Contains(x.Detail, "forget") || strings.Contains(x.Detail, "Dee") {
				t.Errorf("audit line holds response content: %s", x.Detail)
			}
		}
	}
	if n != 2 {
		t.Errorf("audit lines for the deletions: %d, want 2", n)
	}
}

var nonceRE = regexp.MustCompile(`'nonce-([A-Za-z0-9+/=_-]+)'`)
var scriptRE = regexp.MustCompile(`<script[^>]*>`)

func checkHeaders(t *testing.T, what string, r *apitest.Response) {
	t.Helper()
	h := r.Header
	csp := h.Get("Content-Security-Policy")
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "default-src 'self'") ||
		!strings.Contains(csp, "object-src 'none'") || !strings.Contains(csp, "base-uri 'none'") {
		t.Errorf("%s: weak CSP %q", what, csp)
	}
	if !strings.Contains(r.Header.Get("Content-Type"), "html") {
		return
	}
	// Every script on a page is an external file or carries this
	// response's nonce: nothing inline runs without it.
	m := nonceRE.FindStringSubmatch(csp)
	for _, tag := range scriptRE.FindAllString(r.Body, -1) {
		tag = html.UnescapeString(tag)
		if m == nil || (!strings.Contains(tag, `nonce="`+m[1]+`"`) && !strings.Contains(tag, "src=")) {
			t.Errorf("%s: script tag without this response's nonce: %s", what, tag)
		}
	}
}

// TestSecurityHeaders fetches every GET route (and an unknown path) as each
// kind of caller and checks the headers.
func TestSecurityHeaders(t *testing.T) {
	e := apitest.New(t)
	kiosk, _ := e.Device("main")
	callers := map[string]*apitest.Client{"anonymous": e.Anon(), "admin": e.Login(storage.RoleAdmin), "manager": e.Login(storage.RoleManager, "main")}
	n := 0
	for _, r := range routeTable(t, e) {
		if r.Method != "GET" {
			continue
		}
		p := concrete(r.Path)
		switch {
		case strings.HasPrefix(r.Path, "/kiosk/"):
			p = "/kiosk/" + kiosk.Kiosk
		case strings.HasPrefix(r.Path, "/f/"):
			p = "/f/fft?site=main"
		case strings.HasPrefix(r.Path, "/suggest/"):
			p = "/suggest/main"
		}
		for name, c := range callers {
			got := c.Get(p)
			n++
			checkHeaders(t, name+" GET "+p, got)
			if got.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(got.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("%s GET %s: may be framed", name, p)
			}
			if got.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s GET %s: HSTS over plain HTTP", name, p)
			}
			if !strings.HasPrefix(r.Path, "/static/") && !strings.Contains(got.Header.Get("Cache-Control"), "no-store") && !strings.Contains(got.Header.Get("Cache-Control"), "no-cache") {
				t.Errorf("%s GET %s: Cache-Control %q lets health data be cached", name, p, got.Header.Get("Cache-Control"))
			}
		}
	}
	checkHeaders(t, "404", e.Anon().Get("/no/such/page"))
	if n < 30 {
		t.Fatalf("only %d pages checked", n)
	}
}

func TestKioskFramingAndHSTS(t *testing.T) {
	e := apitest.NewWith(t, apitest.Options{Config: api.Config{KioskFrameAncestors: "https://portal.example.org 'self'", SecureCookies: true}})
	kiosk, _ := e.Device("main")
	k := e.Anon().Get("/kiosk/" + kiosk.Kiosk)
	if k.StatusCode != 200 {
		t.Fatalf("kiosk page: %d", k.StatusCode)
	}
	if csp := k.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://portal.example.org 'self'") || k.Header.Get("X-Frame-Options") != "" {
		t.Errorf("kiosk page: CSP %q, X-Frame-Options %q: want the portal allowed", csp, k.Header.Get("X-Frame-Options"))
	}
	f := e.Anon().Get("/f/fft?site=main")
	if !strings.Contains(f.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || f.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("other pages must stay unframeable")
	}
	for _, r := range []*apitest.Response{k, f} {
		if !strings.HasPrefix(r.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Error("HSTS missing under TLS")
		}
	}
	for _, bad := range []string{"https://x.org; script-src *", "javascript:alert(1)", "'unsafe-inline'", "https://a.org,https://b.org"} {
		if _, err := api.FrameAncestors(bad); err == nil {
			t.Errorf("FrameAncestors(%q) accepted", bad)
		}
	}
}

// TestTrustedProxies: X-Forwarded-For counts only from a configured proxy,
// and then its rightmost address that is not a proxy is the client.
func TestTrustedProxies(t *testing.T) {
	// A known account with a cheap hash: a failed sign-in is audited with
	// the client's address, without the slow dummy check for unknown ones.
	ipOf := func(e *apitest.Env, xff string) string {
		if _, err := e.Store.UserByEmail(context.Background(), "x@example.org"); err != nil {
			e.CreateUser("x@example.org", storage.RoleQuality)
		}
		c := e.Anon()
		c.Header = map[string][]string{"X-Forwarded-For": {xff}}
		c.JSON("POST", "/api/v1/auth/login", map[string]string{"email": "x@example.org", "password": "wrong password"})
		es, _ := e.Store.AuditLog(context.Background(), 0, 1)
		var d struct{ IP string }
		json.Unmarshal([]byte(es[0].Detail), &d)
		return d.IP
	}
	plain := apitest.New(t)
	direct := ipOf(plain, "203.0.113.9")
	if direct == "203.0.113.9" {
		t.Fatal("X-Forwarded-For believed without a trusted proxy")
	}
	e := apitest.NewWith(t, apitest.Options{Config: api.Config{TrustedProxies: []string{direct, "10.0.0.0/8"}}})
	for xff, want := range map[string]string{
		"203.0.113.9":                       "203.0.113.9",
		"6.6.6.6, 203.0.113.9":              "203.0.113.9", // a client-written first entry is ignored
		"6.6.6.6, 203.0.113.9, 10.1.2.3":    "203.0.113.9", // our inner proxy is skipped
		"not-an-ip, 198.51.100.7":           "198.51.100.7",
		"198.51.100.7, not-an-ip, 10.0.0.1": "10.0.0.1",
	} {
		if got := ipOf(e, xff); got != want {
			t.Errorf("X-Forwarded-For %q: client %q, want %q", xff, got, want)
		}
	}
	if _, _, err := api.New(api.Deps{Store: e.Store, Keys: e.Keys, Config: api.Config{TrustedProxies: []string{"not an address"}}}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}
}
