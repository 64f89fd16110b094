package api_test

import (
	"strings"
	"testing"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
)

func TestMetricsToken(t *testing.T) {
	open := apitest.New(t)
	if r := open.Anon().Get("/metrics"); r.StatusCode != 200 || !strings.Contains(r.Body, "carevoice_http_requests_total") {
		t.Fatalf("/metrics without a metrics token configured: %d", r.StatusCode)
	}
	e := apitest.NewWith(t, apitest.Options{Config: api.Config{MetricsToken: "scrape-secret-123"}})
	apiToken := e.Token("admin")
	for _, tc := range []struct {
		name   string
		bearer string
		want   int
	}{
		{"no token", "", 401},
		{"wrong token", "scrape-secret-124", 401},
		{"an admin API token is not the metrics token", apiToken.Bearer, 401},
		{"the metrics token", "scrape-secret-123", 200},
	} {
		c := e.Anon()
		c.Bearer = tc.bearer
		r := c.Get("/metrics")
		if r.StatusCode != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, r.StatusCode, tc.want)
		}
		if tc.want == 200 && !strings.Contains(r.Body, "carevoice_http_requests_total") {
			t.Errorf("%s: no metrics in the body", tc.name)
		}
		if tc.want == 401 && (strings.Contains(r.Body, "carevoice_") || r.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%s: refused without a challenge, or metrics leaked: %q", tc.name, r.Body)
		}
	}
	// The router's other spellings of the path take the metrics token too.
	for _, path := range []string{"/metrics/", "/METRICS"} {
		c := e.Anon()
		c.Bearer = "scrape-secret-123"
		if r := c.Get(path); r.StatusCode != 200 || !strings.Contains(r.Body, "carevoice_http_requests_total") {
			t.Errorf("%s with the metrics token: %d", path, r.StatusCode)
		}
	}
	// Other routes still read the API token.
	if r := apiToken.Get("/api/v1/sites"); r.StatusCode != 200 {
		t.Errorf("API token on /api/v1/sites: %d", r.StatusCode)
	}
}
