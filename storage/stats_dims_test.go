package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
)

// This file tests from inside the package (storagetest imports storage, so
// it cannot be used here): the migration's backfill of the per-dimension
// rollups, and the price of writing them.

// internalStores opens a migrated SQLite store and, when
// CAREVOICE_TEST_POSTGRES is set, a PostgreSQL store on a schema of its own.
func internalStores(tb testing.TB) map[string]*Store {
	tb.Helper()
	return internalStoresWith(tb, Config{})
}

// internalStoresWith is internalStores with the test-only settings of with.
func internalStoresWith(tb testing.TB, with Config) map[string]*Store {
	tb.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	out := map[string]*Store{}
	open := func(name string, cfg Config) {
		cfg.Logger = quiet
		cfg.migrateUntil = with.migrateUntil
		s, err := Open(context.Background(), cfg)
		if err != nil {
			tb.Fatalf("open %s: %v", name, err)
		}
		tb.Cleanup(func() { s.Close() })
		if err := s.Seed(context.Background(), "UTC"); err != nil {
			tb.Fatalf("seed %s: %v", name, err)
		}
		out[name] = s
	}
	open("sqlite", Config{SQLitePath: filepath.Join(tb.TempDir(), "carevoice.db")})
	base := os.Getenv("CAREVOICE_TEST_POSTGRES")
	if base == "" {
		return out
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	open("postgres", Config{DatabaseURL: u.String()})
	return out
}

var dimTestSites = []Site{
	{Slug: "east", Name: "East", TimeZone: "America/New_York", Departments: []Department{{Slug: "a", Name: "A"}, {Slug: "b", Name: "B"}}},
	{Slug: "west", Name: "West", TimeZone: "Asia/Tokyo", Departments: []Department{{Slug: "a", Name: "A"}}},
}

// dimResponse is a response with random dimensions and tagged comments,
// dated within days before now.
func dimResponse(rng *mrand.Rand, id string, now time.Time, days int) *NewResponse {
	site := dimTestSites[rng.IntN(len(dimTestSites))]
	at := now.Add(-time.Duration(rng.Int64N(int64(days)*int64(24*time.Hour) + 1)))
	r := &NewResponse{ID: id, SurveyVersion: 1, Site: site.Slug, Lang: "en", SubmittedAt: at,
		LocalDay: at.In(site.Location()).Format(time.DateOnly), Fingerprint: id,
		Channel: []string{"link", "kiosk"}[rng.IntN(2)], Survey: []string{"fft", "nps"}[rng.IntN(2)]}
	if rng.IntN(4) > 0 {
		r.Department = site.Departments[rng.IntN(len(site.Departments))].Slug
	}
	if rng.IntN(3) > 0 {
		r.Provider = []string{"p1", "p2", "p3"}[rng.IntN(3)]
	}
	v := rng.IntN(6)
	if r.Survey == "fft" {
		r.FFT = &v
	} else {
		r.NPS = &v
	}
	r.Answers = append(r.Answers, NewAnswer{Question: "q1", Type: "rating5", Num: &v})
	for q := 2; q <= 3; q++ {
		if rng.IntN(2) == 0 {
			continue
		}
		text := fmt.Sprintf("comment %s/%d", id, q)
		res := &analytics.Result{Sentiment: []string{"positive", "neutral", "negative", "mixed"}[rng.IntN(4)], Version: "old"}
		for _, th := range analytics.ThemeIDs[:5] {
			if rng.IntN(3) == 0 {
				res.Themes = append(res.Themes, analytics.ThemeHit{ID: th, Polarity: []string{"positive", "negative"}[rng.IntN(2)]})
			}
		}
		r.Answers = append(r.Answers, NewAnswer{Question: fmt.Sprint("q", q), Position: q, Type: "text", Intent: "open", Text: &text, Analysis: res})
	}
	return r
}

// dump returns every row of a table in key order, as text.
func dump(t *testing.T, s *Store, table, order string) []string {
	t.Helper()
	rows, err := s.rdb.Query("SELECT * FROM " + table + " ORDER BY " + order)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDimRollupBackfill checks that the coarse rollups the writer and retag
// keep up to date equal what migrations compute from the fine rollups, on
// both engines: the per-dimension counts of 0008 and the wide theme tables of
// 0012. So the backfill of an existing database is right, and so are the
// tables after submissions and a retag.
func TestDimRollupBackfill(t *testing.T) {
	for name, s := range internalStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, site := range dimTestSites {
				if err := s.UpsertSite(ctx, site); err != nil {
					t.Fatal(err)
				}
			}
			rng := mrand.New(mrand.NewPCG(1, 2))
			now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			errs := make(chan error, 300)
			for i := 0; i < 300; i++ {
				r := dimResponse(rng, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), now, 40)
				wg.Add(1)
				go func() { defer wg.Done(); _, err := s.SubmitResponse(ctx, r); errs <- err }()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			// Retag half the comments: sentiments and themes move.
			items, err := s.CommentsToRetag(ctx, "new", false, 0, "", 1000)
			if err != nil || len(items) == 0 {
				t.Fatalf("retag items: %d, %v", len(items), err)
			}
			items = items[:len(items)/2]
			results := make([]analytics.Result, len(items))
			for i := range items {
				results[i] = analytics.Result{Sentiment: "negative", Version: "new",
					Themes: []analytics.ThemeHit{{ID: analytics.ThemeIDs[i%6], Polarity: "negative"}}}
			}
			if err := s.SaveRetag(ctx, items, results); err != nil {
				t.Fatal(err)
			}
			tables := map[string]string{"rollup_dim_daily": "dim, value, day, site, channel", "rollup_dim_themes": "dim, value, day, site, channel",
				"rollup_site_themes": "day, site", "rollup_dept_themes": "day, site, department",
				"rollup_themes_month": "month, site, department, provider, survey, channel", "rollup_site_themes_month": "month, site"}
			written := map[string][]string{}
			for table, order := range tables {
				written[table] = dump(t, s, table, order)
				enough := 20
				if table == "rollup_site_themes_month" {
					enough = 3 // a row per site and month
				}
				if len(written[table]) < enough {
					t.Fatalf("%s: only %d rows; the test data is too thin", table, len(written[table]))
				}
				if _, err := s.wdb.Exec("DELETE FROM " + table); err != nil {
					t.Fatal(err)
				}
			}
			n := 0
			for _, m := range []string{"0008_dashboard_dims", "0012_wide_themes"} {
				b, err := migrationFS.ReadFile("migrations/" + m + ".sql")
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range splitStatements(s.dialectSQL(string(b))) {
					into := strings.Fields(st + " . . .")[2]
					// 0008's theme rows were narrow; 0012's first insert pivots them.
					if !strings.HasPrefix(st, "INSERT") || m == "0008_dashboard_dims" && into != "rollup_dim_daily" || into == "rollup_themes_wide" {
						continue
					}
					if _, err := s.wdb.Exec(st); err != nil {
						t.Fatalf("backfill %s: %v", m, err)
					}
					n++
				}
			}
			if n != 10 {
				t.Fatalf("ran %d backfill statements, want 10", n)
			}
			for table, order := range tables {
				if got := dump(t, s, table, order); !reflect.DeepEqual(got, written[table]) {
					t.Errorf("%s: backfill has %d rows, the writer %d; first differences:\n%s", table, len(got), len(written[table]),
						firstDiff(got, written[table]))
				}
			}
		})
	}
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] + "\n" + b[i]
		}
	}
	return "(one is a prefix of the other)"
}

// BenchmarkSubmitRollups prices the per-dimension rollups in the group
// writer: each iteration submits 4,096 responses of one day (what a busy
// day's batches look like: every batch upserts keys already there), 256 at
// a time, with the per-dimension rollups on and off, four rounds
// alternating:
//
//	go test -run XXX -bench SubmitRollups -benchtime 3x ./storage/
func BenchmarkSubmitRollups(b *testing.B) {
	for name, s := range internalStores(b) {
		ctx := context.Background()
		for _, site := range dimTestSites {
			if err := s.UpsertSite(ctx, site); err != nil {
				b.Fatal(err)
			}
		}
		rng := mrand.New(mrand.NewPCG(5, 6))
		now := time.Now()
		seq := 0
		// A first batch of the day makes the rows every later one updates.
		for i := 0; i < 512; i++ {
			seq++
			if _, err := s.SubmitResponse(ctx, dimResponse(rng, fmt.Sprintf("00000000-0000-4000-8000-%012d", seq), now, 0)); err != nil {
				b.Fatal(err)
			}
		}
		for round := 0; round < 4; round++ {
			order := []bool{true, false}
			if round%2 == 1 {
				order = []bool{false, true}
			}
			for _, on := range order {
				b.Run(fmt.Sprintf("%s/dims=%v", name, on), func(b *testing.B) {
					rollupDims = on
					defer func() { rollupDims = true }()
					const n, inFlight = 4096, 256
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						rs := make([]*NewResponse, n)
						for j := range rs {
							seq++
							rs[j] = dimResponse(rng, fmt.Sprintf("00000000-0000-4000-8000-%012d", seq), now, 0)
						}
						b.StartTimer()
						sem := make(chan struct{}, inFlight)
						var wg sync.WaitGroup
						for _, r := range rs {
							sem <- struct{}{}
							wg.Add(1)
							go func() {
								defer func() { <-sem; wg.Done() }()
								if _, err := s.SubmitResponse(ctx, r); err != nil {
									b.Error(err)
								}
							}()
						}
						wg.Wait()
					}
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "responses/s")
				})
			}
		}
	}
}
