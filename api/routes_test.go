package api_test

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
)

// publicRoutes is every route anyone may call without signing in. A new
// public route fails TestRouteTable until it is added here, so opening
// something to the internet is always a reviewed decision.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /static/:hash/*": true,
	"GET /f/:survey": true, "POST /f/:survey": true, "GET /s/:token": true, "POST /s/:token": true,
	"GET /kiosk/:key": true, "POST /kiosk/:key": true, "GET /suggest/:site": true, "POST /suggest/:site": true,
	"GET /": true, "GET /login": true, "POST /login": true, "POST /logout": true,
	"POST /api/v1/responses": true, "GET /api/v1/surveys": true, "GET /api/v1/surveys/:slug": true,
	"POST /api/v1/auth/login": true, "POST /api/v1/auth/logout": true,
}

type route struct {
	Method, Path string
	Perm         api.Permission
}

// routeTable walks Fiber's own list of routes (not our permission map), so
// a route registered around s.handle shows up without a permission.
func routeTable(t *testing.T, e *apitest.Env) []route {
	t.Helper()
	var out []route
	seen := map[string]bool{}
	for _, r := range e.App.GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "OPTIONS" || r.Method == "CONNECT" || r.Method == "TRACE" {
			continue
		}
		k := r.Method + " " + r.Path
		if seen[k] {
			continue
		}
		seen[k] = true
		p, ok := e.Server.PermissionFor(r.Method, r.Path)
		if !ok {
			t.Errorf("%s has no permission entry: register it with s.handle", k)
			continue
		}
		out = append(out, route{r.Method, r.Path, p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Method+out[i].Path < out[j].Method+out[j].Path })
	return out
}

var paramRE = regexp.MustCompile(`:[A-Za-z_]+\??|\*`)

// concrete fills a route's parameters with harmless values.
func concrete(path string) string {
	return paramRE.ReplaceAllStringFunc(path, func(p string) string {
		if p == "*" {
			return "x.css"
		}
		return "999999"
	})
}

func allows(p api.Permission, role string) bool {
	return role == storage.RoleAdmin || slices.Contains(p.Roles, role)
}

func TestRouteTable(t *testing.T) {
	e := apitest.New(t)
	routes := routeTable(t, e)
	if len(routes) < 20 {
		t.Fatalf("only %d routes found; the walk is broken", len(routes))
	}
	kiosk, _ := e.Device("main")
	roles := []string{storage.RoleAdmin, storage.RoleManager, storage.RoleQuality}
	sessions, tokens := map[string]*apitest.Client{}, map[string]*apitest.Client{}
	for _, r := range roles {
		var sites []string
		if r == storage.RoleManager {
			sites = []string{"main"}
		}
		sessions[r], tokens[r] = e.Login(r, sites...), e.Token(r, sites...)
	}
	var checked int
	for _, r := range routes {
		k := r.Method + " " + r.Path
		if r.Perm.Public {
			if !publicRoutes[k] {
				t.Errorf("%s is public but not in publicRoutes: review it and add it there", k)
			}
			continue
		}
		if publicRoutes[k] {
			t.Errorf("%s is listed public but its permission is not", k)
		}
		if len(r.Perm.Roles) == 0 {
			t.Errorf("%s is neither public nor open to any role", k)
		}
		path := concrete(r.Path)
		call := func(c *apitest.Client) *apitest.Response {
			if r.Method == "GET" {
				return c.Get(path)
			}
			return c.JSON(r.Method, path, "{}")
		}
		t.Run(k, func(t *testing.T) {
			checked++
			// No session at all.
			got := call(e.Anon())
			if r.Perm.Page {
				if got.StatusCode != 303 || !strings.HasPrefix(got.Header.Get("Location"), "/login") {
					t.Errorf("anonymous: got %d to %q, want 303 to /login", got.StatusCode, got.Header.Get("Location"))
				}
			} else if got.StatusCode != 401 {
				t.Errorf("anonymous: got %d, want 401", got.StatusCode)
			}
			// A kiosk key opens nothing but submissions.
			if !r.Perm.Kiosk {
				if got := call(kiosk); got.StatusCode != 403 {
					t.Errorf("kiosk key: got %d, want 403", got.StatusCode)
				}
			}
			// A forged bearer token is refused outright.
			forged := e.Anon()
			forged.Bearer = "cvt_forged"
			if got := call(forged); got.StatusCode != 401 {
				t.Errorf("forged token: got %d, want 401", got.StatusCode)
			}
			for _, role := range roles {
				for kind, c := range map[string]*apitest.Client{"session": sessions[role], "token": tokens[role]} {
					got := call(c)
					refused := got.StatusCode == 403 && strings.Contains(got.Body, "your role may not do this")
					if allows(r.Perm, role) {
						if refused || got.StatusCode == 401 {
							t.Errorf("%s %s: refused with %d although the table allows it", role, kind, got.StatusCode)
						}
					} else if !refused {
						t.Errorf("%s %s: got %d %.80q, want 403 from the permission check", role, kind, got.StatusCode, got.Body)
					}
				}
			}
		})
	}
	if checked == 0 {
		t.Fatal("no protected route was checked")
	}
}

// TestManagersSeeOnlyTheirSites asks, as a manager of north, every
// site-taking endpoint that exists for south.
func TestManagersSeeOnlyTheirSites(t *testing.T) {
	e := apitest.New(t)
	ctx := context.Background()
	for _, s := range []string{"north", "south"} {
		if err := e.Store.UpsertSite(ctx, storage.Site{Slug: s, Name: strings.ToUpper(s[:1]) + s[1:], TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
	}
	m := e.Login(storage.RoleManager, "north")
	cases := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "south"}},
		{"GET", "/api/v1/stats/summary?site=south", nil},
		{"GET", "/api/v1/stats/trend?site=south", nil},
		{"GET", "/api/v1/stats/themes?site=south", nil},
		{"GET", "/dashboard?site=south", nil},
		{"GET", "/dashboard/trends?site=south", nil},
		{"GET", "/dashboard/themes?site=south", nil},
		{"GET", "/dashboard/comments?site=south", nil},
		{"GET", "/api/v1/cases?site=south", nil},
		{"GET", "/cases?site=south", nil},
	}
	for _, c := range cases {
		route, _, _ := strings.Cut(c.path, "?")
		if _, ok := e.Server.PermissionFor(c.method, route); !ok {
			t.Logf("%s %s is not registered yet; skipped", c.method, route)
			continue
		}
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			var got *apitest.Response
			if c.body != nil {
				got = m.JSON(c.method, c.path, c.body)
			} else {
				got = m.Get(c.path)
			}
			if got.StatusCode != 403 {
				t.Errorf("got %d %.120q, want 403", got.StatusCode, got.Body)
			}
		})
	}
	// Their own site passes.
	if got := m.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "north"}); got.StatusCode != 201 {
		t.Errorf("invitation for own site: got %d %s, want 201", got.StatusCode, got.Body)
	}
	// The site list shows a manager only their own sites.
	var sites []struct{ Slug string }
	m.Get("/api/v1/sites").Decode(t, &sites)
	if len(sites) != 1 || sites[0].Slug != "north" {
		t.Errorf("manager of north sees sites %v, want only north", sites)
	}
}
