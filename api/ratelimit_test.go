package api_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
)

func rlBody(id, channel string) map[string]any {
	return map[string]any{"id": id, "survey": "fft", "site": "main", "channel": channel,
		"answers": []map[string]any{{"question": "q1", "value": 2}}}
}

func TestRateLimits(t *testing.T) {
	e := apitest.NewWith(t, apitest.Options{Config: api.Config{RateLimits: api.RateLimits{
		PerIP: api.Rate{PerMinute: 3, Burst: 3}, PerKiosk: api.Rate{PerMinute: 2, Burst: 2}}}})
	anon := e.Anon()
	for i := 0; i < 3; i++ {
		if r := anon.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link")); r.StatusCode != 201 {
			t.Fatalf("public submission %d: got %d %s, want 201", i+1, r.StatusCode, r.Body)
		}
	}
	r := anon.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link"))
	if r.StatusCode != 429 {
		t.Fatalf("4th public submission in a minute: got %d, want 429", r.StatusCode)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	if r := anon.Get("/api/v1/surveys/fft"); r.StatusCode != 200 {
		t.Errorf("reading is not limited: GET got %d", r.StatusCode)
	}
	// An admin token (the load test's) is exempt.
	admin := e.Token("admin")
	for i := 0; i < 10; i++ {
		if r := admin.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link")); r.StatusCode != 201 {
			t.Fatalf("token submission %d: got %d %s, want 201", i+1, r.StatusCode, r.Body)
		}
	}
	// Each kiosk has its own bucket, apart from the address's.
	k1, _ := e.Device("main")
	k2, _ := e.Device("main")
	for i, want := range []int{201, 201, 429} {
		if r := k1.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "kiosk")); r.StatusCode != want {
			t.Errorf("kiosk 1 submission %d: got %d %s, want %d", i+1, r.StatusCode, r.Body, want)
		}
	}
	if r := k2.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "kiosk")); r.StatusCode != 201 {
		t.Errorf("kiosk 2 after kiosk 1 was limited: got %d, want 201", r.StatusCode)
	}
	m := e.Anon().Get("/metrics")
	if want := `carevoice_rate_limited_total{principal="kiosk"} 1`; !strings.Contains(m.Body, want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want api.Rate
		ok   bool
	}{
		{"30/m", api.Rate{PerMinute: 30, Burst: 30}, true},
		{"30", api.Rate{PerMinute: 30, Burst: 30}, true},
		{"2/s", api.Rate{PerMinute: 120, Burst: 2}, true},
		{"600/h", api.Rate{PerMinute: 10, Burst: 600}, true},
		{"off", api.Rate{}, true},
		{"0", api.Rate{}, true},
		{"-1/m", api.Rate{}, false},
		{"ten", api.Rate{}, false},
		{"5/week", api.Rate{}, false},
	} {
		got, err := api.ParseRate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
