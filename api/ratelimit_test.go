package api_test

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

func rlBody(id, channel string) map[string]any {
	return map[string]any{"id": id, "survey": "fft", "site": "main", "channel": channel,
		"answers": []map[string]any{{"question": "q1", "value": 2}}}
}

// TestRateLimits runs on SQLite (buckets in memory) and on PostgreSQL
// (buckets in the database, shared by instances: see e2e
// TestRateLimitAcrossInstances for two of them).
func TestRateLimits(t *testing.T) {
	for _, c := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(c.name, func(t *testing.T) { testRateLimits(t, c.postgres) })
	}
}

func testRateLimits(t *testing.T, postgres bool) {
	e := apitest.NewWith(t, apitest.Options{Postgres: postgres, Config: api.Config{RateLimits: api.RateLimits{
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

// TestRateLimitsFallBack takes the shared buckets away from under a
// PostgreSQL instance: the limiter neither fails the request nor refuses
// everyone, it counts in this instance's memory until the table is back.
func TestRateLimitsFallBack(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{DatabaseURL: url, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	e := apitest.NewWith(t, apitest.Options{Store: st, Config: api.Config{RateLimits: api.RateLimits{
		PerIP: api.Rate{PerMinute: 2, Burst: 2}}}})
	anon := e.Anon()
	if r := anon.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link")); r.StatusCode != 201 {
		t.Fatalf("first submission: %d %s", r.StatusCode, r.Body)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("ALTER TABLE rate_buckets RENAME TO rate_buckets_away"); err != nil {
		t.Fatal(err)
	}
	// The memory bucket starts full: two more pass, then 429.
	for i, want := range []int{201, 201, 429} {
		if r := anon.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link")); r.StatusCode != want {
			t.Fatalf("submission %d without the shared table: %d %s, want %d", i+1, r.StatusCode, r.Body, want)
		}
	}
	if _, err := db.Exec("ALTER TABLE rate_buckets_away RENAME TO rate_buckets"); err != nil {
		t.Fatal(err)
	}
	// Back on the shared bucket, where the first submission left one token.
	for i, want := range []int{201, 429} {
		if r := anon.JSON("POST", "/api/v1/responses", rlBody(uuid.NewString(), "link")); r.StatusCode != want {
			t.Errorf("submission %d with the table back: %d %s, want %d", i+1, r.StatusCode, r.Body, want)
		}
	}
	// The table names buckets by a MAC of the address, never the address.
	rows, err := db.Query("SELECT key FROM rate_buckets")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		if n++; !sharedKeyRE.MatchString(k) {
			t.Errorf("bucket key %q is not ip: or kiosk: and a MAC", k)
		}
	}
	if n == 0 {
		t.Error("no shared bucket was written")
	}
}

var sharedKeyRE = regexp.MustCompile(`^(ip|kiosk):[0-9a-f]{32}$`)
