package api_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/api/apitest"
)

// TestJSONLoginGivesCSRF: a script that signs in with the JSON API learns
// the CSRF token its next cookie-authenticated POST needs.
func TestJSONLoginGivesCSRF(t *testing.T) {
	e := apitest.New(t)
	pw := e.CreateUser("boss@example.org", "admin")
	r := e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": "boss@example.org", "password": pw})
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("login: got %d (Cache-Control %q) %s", r.StatusCode, r.Header.Get("Cache-Control"), r.Body)
	}
	var out struct{ CSRF, Email, Role string }
	r.Decode(t, &out)
	c := e.LoginAs("boss@example.org", pw)
	c.CSRF = out.CSRF
	if out.CSRF == "" {
		t.Fatal("no csrf in the login answer")
	}
	// The token belongs to its own session, so the second sign-in above
	// has a different one and refuses this.
	if r := c.JSON("POST", "/api/v1/tokens", map[string]any{"role": "quality", "name": "export script"}); r.StatusCode != 403 {
		t.Errorf("another session's CSRF token: got %d, want 403", r.StatusCode)
	}
	for _, ck := range r.Cookies {
		if ck.Name == "cv_session" {
			c.Cookie = ck.Value
		}
	}
	if r := c.JSON("POST", "/api/v1/tokens", map[string]any{"role": "quality", "name": "export script"}); r.StatusCode != 201 || !strings.Contains(r.Body, `"token":"cvt_`) {
		t.Errorf("token with the login's CSRF: got %d %s, want 201", r.StatusCode, r.Body)
	}
}

func TestInvitationsValidation(t *testing.T) {
	e := apitest.New(t)
	admin := e.Token("admin")
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"count zero", map[string]any{"survey": "fft", "site": "main", "count": 0}, "count"},
		{"count too many", map[string]any{"survey": "fft", "site": "main", "count": 1001}, "count"},
		{"expiry too long", map[string]any{"survey": "fft", "site": "main", "expires_in_hours": 24 * 91}, "expires_in_hours"},
		{"bad visit date", map[string]any{"survey": "fft", "site": "main", "visit_date": "31/03/2026"}, "visit_date"},
		{"unknown survey", map[string]any{"survey": "nope", "site": "main"}, "survey"},
		{"unknown site", map[string]any{"survey": "fft", "site": "nowhere"}, "site"},
		{"unknown department", map[string]any{"survey": "fft", "site": "main", "department": "surgery"}, "department"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := admin.JSON("POST", "/api/v1/invitations", c.body)
			var eb errorBody
			r.Decode(t, &eb)
			if r.StatusCode != 400 || eb.Fields[c.field] == "" {
				t.Errorf("got %d %s, want 400 naming %s", r.StatusCode, r.Body, c.field)
			}
		})
	}
	r := admin.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "nps", "site": "main", "count": 3})
	var out struct {
		Invitations []struct{ Token, URL, ExpiresAt string }
	}
	r.Decode(t, &out)
	if r.StatusCode != 201 || len(out.Invitations) != 3 {
		t.Fatalf("got %d %s, want 3 invitations", r.StatusCode, r.Body)
	}
	seen := map[string]bool{}
	for _, inv := range out.Invitations {
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(inv.Token, "cvi_"))
		if err != nil || len(raw) < 16 {
			t.Errorf("token %q carries %d random bytes (%v), want at least 16 (128 bits)", inv.Token, len(raw), err)
		}
		if seen[inv.Token] || !strings.HasSuffix(inv.URL, "/s/"+inv.Token) {
			t.Errorf("invitation %+v repeats or has the wrong URL", inv)
		}
		seen[inv.Token] = true
		want(t, e.Anon().Get("/s/"+inv.Token), 200, "Would you recommend us?")
	}
}

func TestSitesForManagers(t *testing.T) {
	e := apitest.New(t)
	if err := e.Store.UpsertSite(t.Context(), siteOther); err != nil {
		t.Fatal(err)
	}
	var sites []struct{ Slug string }
	r := e.Login("manager", "other").Get("/api/v1/sites")
	r.Decode(t, &sites)
	if len(sites) != 1 || sites[0].Slug != "other" {
		t.Errorf("manager of other sees %+v", sites)
	}
	sites = nil
	e.Token("quality").Get("/api/v1/sites").Decode(t, &sites)
	if len(sites) != 2 {
		t.Errorf("quality sees %+v, want both sites", sites)
	}
	if r := e.Anon().Get("/api/v1/sites"); r.StatusCode != 401 {
		t.Errorf("anonymous: got %d, want 401", r.StatusCode)
	}
}
