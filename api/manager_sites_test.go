package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
)

// TestSitelessManagerRefused: a manager account or token without sites
// (made before sites were required, when an empty list meant every site)
// is refused on every staff route a manager may use, with a message saying
// why, and still reaches their account page and signs out.
func TestSitelessManagerRefused(t *testing.T) { eachEnv(t, testSitelessManagerRefused) }

func testSitelessManagerRefused(t *testing.T, e *apitest.Env) {
	secSite(t, e, "north", "North")
	session, token := e.Login(storage.RoleManager), e.Token(storage.RoleManager)
	callers := []struct {
		kind, msg string
		c         *apitest.Client
	}{
		{"session", "This manager account has no sites assigned; an administrator can assign them.", session},
		{"token", "This manager token has no sites", token},
	}
	// The routes the brief names first, then every other one a manager
	// may use, from Fiber's own route table.
	named := []string{"GET /dashboard", "GET /api/v1/stats/summary", "GET /api/v1/stats/trend", "GET /api/v1/cases", "GET /cases", "GET /api/v1/sites"}
	var checked int
	for _, r := range routeTable(t, e) {
		k := r.Method + " " + r.Path
		if r.Perm.Public || !allows(r.Perm, storage.RoleManager) || r.Perm.Siteless {
			continue
		}
		path := concrete(r.Path) + "?site=north"
		for _, cl := range callers {
			t.Run(cl.kind+" "+k, func(t *testing.T) {
				checked++
				var got *apitest.Response
				if r.Method == "GET" {
					got = cl.c.Get(path)
				} else {
					got = cl.c.JSON(r.Method, path, map[string]any{"survey": "fft", "site": "north"})
				}
				if got.StatusCode != 403 || !strings.Contains(got.Body, cl.msg) {
					t.Errorf("got %d %.160q, want 403 saying %q", got.StatusCode, got.Body, cl.msg)
				}
			})
		}
		for i, n := range named {
			if n == k {
				named = append(named[:i], named[i+1:]...)
				break
			}
		}
	}
	if len(named) > 0 || checked < 20 {
		t.Errorf("checked %d calls; routes not found: %v", checked, named)
	}
	// The account page and signing out still work for the person.
	want(t, session.Get("/account"), 200, "Your account")
	if r := session.Form("/logout", url.Values{"csrf": {session.CSRF}}); r.StatusCode != 303 {
		t.Errorf("sign out: got %d, want 303", r.StatusCode)
	}
	if r := session.Get("/api/v1/sites"); r.StatusCode != 401 {
		t.Errorf("after sign-out: got %d, want 401", r.StatusCode)
	}
	// Other roles without sites see every site, as before.
	for _, role := range []string{storage.RoleAdmin, storage.RoleQuality} {
		if r := e.Login(role).Get("/api/v1/stats/summary?site=north"); r.StatusCode != 200 {
			t.Errorf("%s without sites: got %d %.120s, want 200", role, r.StatusCode, r.Body)
		}
	}
}

// TestManagerAccountNeedsSites: the admin pages refuse to create a manager
// without sites or to take a manager's sites away, with the reason on the
// page, and change nothing.
func TestManagerAccountNeedsSites(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	secSite(t, e, "north", "North")
	admin := e.Login(storage.RoleAdmin)
	e.CreateUser("mia@example.org", storage.RoleManager, "north")
	e.CreateUser("old@example.org", storage.RoleManager) // from before sites were required
	mia, err := e.Store.UserByEmail(ctx, "mia@example.org")
	if err != nil {
		t.Fatal(err)
	}
	old, err := e.Store.UserByEmail(ctx, "old@example.org")
	if err != nil {
		t.Fatal(err)
	}
	const noSites = "A manager must have at least one site"
	const onlyManagers = "Only a manager has sites"
	for _, tc := range []struct {
		name, path string
		form       url.Values
		status     int
		msg        string
	}{
		{"create without sites", "/admin/users", url.Values{"email": {"new@example.org"}, "role": {"manager"}}, 400, noSites},
		{"create with blank sites", "/admin/users", url.Values{"email": {"new@example.org"}, "role": {"manager"}, "sites": {" , "}}, 400, noSites},
		{"create with an unknown site", "/admin/users", url.Values{"email": {"new@example.org"}, "role": {"manager"}, "sites": {"nowhere"}}, 400, "existing site slugs"},
		{"update to no sites", fmt.Sprintf("/admin/users/%d", mia.ID), url.Values{"role": {"manager"}, "sites": {""}}, 400, noSites},
		{"update without the sites field", fmt.Sprintf("/admin/users/%d", mia.ID), url.Values{"role": {"manager"}}, 400, noSites},
		{"save a siteless manager unchanged", fmt.Sprintf("/admin/users/%d", old.ID), url.Values{"role": {"manager"}, "sites": {""}}, 400, noSites},
		{"disable a siteless manager", fmt.Sprintf("/admin/users/%d", old.ID), url.Values{"role": {"manager"}, "sites": {""}, "disabled": {"on"}}, 303, ""},
		{"enable them again without sites", fmt.Sprintf("/admin/users/%d", old.ID), url.Values{"role": {"manager"}, "sites": {""}}, 400, noSites},
		{"create quality with sites", "/admin/users", url.Values{"email": {"qa@example.org"}, "role": {"quality"}, "sites": {"north"}}, 400, onlyManagers},
		{"create admin with sites", "/admin/users", url.Values{"email": {"ad@example.org"}, "role": {"admin"}, "sites": {"north"}}, 400, onlyManagers},
		{"make mia quality but keep her sites", fmt.Sprintf("/admin/users/%d", mia.ID), url.Values{"role": {"quality"}, "sites": {"north"}}, 400, onlyManagers},
		{"create quality without sites", "/admin/users", url.Values{"email": {"qa@example.org"}, "role": {"quality"}}, 201, "Account created."},
		{"create manager of north", "/admin/users", url.Values{"email": {"max@example.org"}, "role": {"manager"}, "sites": {"north, north"}}, 201, "Account created."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", admin.CSRF)
			want(t, admin.Form(tc.path, tc.form), tc.status, tc.msg)
		})
	}
	for _, email := range []string{"new@example.org", "ad@example.org"} {
		if _, err := e.Store.UserByEmail(ctx, email); err == nil {
			t.Errorf("refused account %s was created", email)
		}
	}
	if u, _ := e.Store.UserByEmail(ctx, "qa@example.org"); u == nil || u.Sites != "" {
		t.Errorf("qa: %+v, want a quality account without sites", u)
	}
	if u, _ := e.Store.UserByEmail(ctx, "mia@example.org"); u.Sites != "north" || u.Role != storage.RoleManager {
		t.Errorf("after refused updates mia is %s of %q", u.Role, u.Sites)
	}
	if u, _ := e.Store.UserByEmail(ctx, "old@example.org"); !u.Disabled || u.Sites != "" {
		t.Errorf("old: %+v, want disabled and still without sites", u)
	}
	if u, _ := e.Store.UserByEmail(ctx, "max@example.org"); u == nil || u.Sites != "north" {
		t.Errorf("max: %+v, want a manager of north", u)
	}
	want(t, admin.Get("/admin/users"), 200, "Sites (managers: one at least)", "(manager without sites: sees nothing until given some)")
}

// TestManagerTokenSites: a manager token is made with sites (JSON API and
// admin form), sees only them, and the audit log records them.
func TestManagerTokenSites(t *testing.T) { eachEnv(t, testManagerTokenSites) }

func testManagerTokenSites(t *testing.T, e *apitest.Env) {
	ctx := context.Background()
	secSite(t, e, "north", "North")
	secSite(t, e, "south", "South")
	admin := e.Login(storage.RoleAdmin)
	for _, tc := range []struct {
		name string
		body map[string]any
		why  string // in fields.sites
	}{
		{"manager without sites", map[string]any{"role": "manager", "name": "m"}, "required"},
		{"manager with an empty list", map[string]any{"role": "manager", "name": "m", "sites": []string{}}, "required"},
		{"manager with an unknown site", map[string]any{"role": "manager", "name": "m", "sites": []string{"north", "nowhere"}}, "existing site"},
		{"manager with a blank site", map[string]any{"role": "manager", "name": "m", "sites": []string{""}}, "existing site"},
		{"quality with sites", map[string]any{"role": "quality", "name": "q", "sites": []string{"north"}}, "only go with a manager token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := admin.JSON("POST", "/api/v1/tokens", tc.body)
			var eb errorBody
			r.Decode(t, &eb)
			if r.StatusCode != 400 || !strings.Contains(eb.Fields["sites"], tc.why) {
				t.Errorf("got %d %s, want 400 with fields.sites saying %q", r.StatusCode, r.Body, tc.why)
			}
		})
	}
	if n := secCountTokens(t, e); n != 0 {
		t.Fatalf("%d tokens stored by refused requests", n)
	}

	r := admin.JSON("POST", "/api/v1/tokens", map[string]any{"role": "manager", "name": "north script", "sites": []string{"north", "north"}})
	var made struct {
		Token string
		Sites []string
	}
	r.Decode(t, &made)
	if r.StatusCode != 201 || len(made.Sites) != 1 || made.Sites[0] != "north" {
		t.Fatalf("create: got %d %s, want 201 with sites [north]", r.StatusCode, r.Body)
	}
	tok := e.Anon()
	tok.Bearer = made.Token
	var sites []struct{ Slug string }
	tok.Get("/api/v1/sites").Decode(t, &sites)
	if len(sites) != 1 || sites[0].Slug != "north" {
		t.Errorf("north's token sees sites %v, want only north", sites)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/api/v1/stats/summary?site=north", 200},
		{"/api/v1/stats/summary?site=south", 403},
		{"/api/v1/stats/themes?site=south", 403},
		{"/api/v1/cases?site=north", 200},
		{"/api/v1/cases?site=south", 403},
		{"/api/v1/cases/reports?site=south", 403},
	} {
		if got := tok.Get(tc.path); got.StatusCode != tc.status {
			t.Errorf("GET %s: got %d %.120s, want %d", tc.path, got.StatusCode, got.Body, tc.status)
		}
	}
	if got := tok.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "south"}); got.StatusCode != 403 {
		t.Errorf("invitation for south: got %d, want 403", got.StatusCode)
	}
	if got := tok.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "north"}); got.StatusCode != 201 {
		t.Errorf("invitation for north: got %d %s, want 201", got.StatusCode, got.Body)
	}

	// The admin form: refused without sites, with the reason on the page.
	form := func(role, sites string) *apitest.Response {
		return admin.Form("/admin/tokens", url.Values{"name": {"form " + role}, "role": {role}, "sites": {sites}, "expires_in_hours": {"2"}, "csrf": {admin.CSRF}})
	}
	want(t, form("manager", ""), 400, "Sites are required for a manager token")
	want(t, form("manager", "nowhere"), 400, "Sites must be existing site slugs")
	want(t, form("admin", "north"), 400, "Sites only go with a manager token")
	want(t, form("manager", "south,north"), 201, "Token created.")
	ts, err := e.Store.APITokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range ts {
		got[x.Name] = x.Sites
	}
	if got["north script"] != "north" || got["form manager"] != "north,south" || len(got) != 2 {
		t.Errorf("stored token sites %v", got)
	}
	es, err := e.Store.AuditLog(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	audited := 0
	for _, x := range es {
		if x.Action == "token.create" && strings.Contains(x.Detail, `"sites":"north`) {
			audited++
		}
	}
	if audited != 2 {
		t.Errorf("%d token.create entries record the sites, want 2", audited)
	}
}
