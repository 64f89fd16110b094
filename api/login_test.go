package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/api/apitest"
)

// TestLoginForgery: a sign-in cannot be forged from another site, neither
// through the HTML form nor through the JSON endpoint.
func TestLoginForgery(t *testing.T) {
	e := apitest.New(t)
	pw := e.CreateUser("dee@example.org", "manager")

	page := e.Anon().Get("/login")
	var tok string
	for _, ck := range strings.Split(page.Header.Get("Set-Cookie"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(ck), "cv_login="); ok {
			tok = v
		}
	}
	if tok == "" || !strings.Contains(page.Body, `name="login_csrf" value="`+tok+`"`) {
		t.Fatalf("login page: no anti-forgery cookie matching the form (cookie %q)", tok)
	}
	if !strings.Contains(page.Header.Get("Set-Cookie"), "SameSite=Strict") {
		t.Errorf("login cookie is not SameSite=Strict: %s", page.Header.Get("Set-Cookie"))
	}

	form := url.Values{"email": {"dee@example.org"}, "password": {pw}}
	cases := []struct {
		name   string
		cookie string
		field  string
		want   int
	}{
		{"no cookie, no field (a forged cross-site form)", "", "", http.StatusForbidden},
		{"field without cookie", "", tok, http.StatusForbidden},
		{"mismatch", "cv_login=other", tok, http.StatusForbidden},
		{"matching", "cv_login=" + tok, tok, http.StatusSeeOther},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := e.Anon()
			if c.cookie != "" {
				cl.Header = http.Header{"Cookie": {c.cookie}}
			}
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			if c.field != "" {
				v.Set("login_csrf", c.field)
			}
			r := cl.Form("/login", v)
			if r.StatusCode != c.want {
				t.Fatalf("got %d, want %d", r.StatusCode, c.want)
			}
			signedIn := strings.Contains(r.Header.Get("Set-Cookie"), "cv_session=") && !strings.Contains(r.Header.Get("Set-Cookie"), "cv_session=;")
			if signedIn != (c.want == http.StatusSeeOther) {
				t.Errorf("session cookie set = %v, want %v", signedIn, c.want == http.StatusSeeOther)
			}
		})
	}

	// A cross-site form can post text/plain that looks like JSON; the API
	// login only takes application/json.
	r := e.Anon().Do("POST", "/api/v1/auth/login", strings.NewReader(`{"email":"dee@example.org","password":"`+pw+`"}`), "text/plain")
	if r.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain login: got %d, want 415", r.StatusCode)
	}
}
