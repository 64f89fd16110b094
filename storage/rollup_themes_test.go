package storage

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/carevoice/carevoice/analytics"
)

func TestRollupThemeIDsAreTheAnalyzers(t *testing.T) {
	if !slices.Equal(rollupThemeIDs, analytics.ThemeIDs) {
		t.Fatalf("rollup theme columns %v, analyzer themes %v: a new theme needs a migration adding its columns",
			rollupThemeIDs, analytics.ThemeIDs)
	}
	for i := range numThemeCols {
		id, pol := themeOfCol(i)
		if themeCol(id, pol) != i {
			t.Errorf("column %d (%s %s) maps back to %d", i, id, pol, themeCol(id, pol))
		}
	}
	for _, tc := range [][2]string{{"wait_times", "mixed"}, {"other", "negative"}, {"", ""}} {
		if got := themeCol(tc[0], tc[1]); got != -1 {
			t.Errorf("themeCol(%q, %q) = %d, want -1", tc[0], tc[1], got)
		}
	}
}

// TestWideThemesMigration starts a database at migration 0011, with narrow
// theme rollups as earlier versions wrote them, applies 0012 and checks that
// every count arrived in its wide column, in the fine table and in the
// coarse ones rebuilt from it, on both engines.
func TestWideThemesMigration(t *testing.T) {
	for name, s := range internalStoresWith(t, Config{migrateUntil: 11}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			narrow := []struct {
				day, site, dept, provider, survey, channel, theme, polarity string
				n                                                           int64
			}{
				{"2026-03-01", "east", "a", "dr-x", "fft", "web", "wait_times", "negative", 3},
				{"2026-03-01", "east", "a", "dr-x", "fft", "web", "wait_times", "positive", 1},
				{"2026-03-01", "east", "a", "dr-x", "fft", "web", "privacy", "neutral", 2},
				{"2026-03-01", "east", "b", "", "fft", "kiosk", "staff_attitude", "positive", 5},
				{"2026-03-02", "east", "", "", "nps", "", "follow_up", "negative", 1},
				{"2026-04-09", "west", "a", "dr-y", "fft", "sms", "ignored", "negative", 4},
				{"2026-04-09", "west", "a", "dr-y", "fft", "sms", "billing", "negative", 0}, // retag moved it away
			}
			for _, r := range narrow {
				if _, err := s.wdb.ExecContext(ctx, `INSERT INTO rollup_themes (day, site, department, provider, survey, channel, theme, polarity, n)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.day, r.site, r.dept, r.provider, r.survey, r.channel, r.theme, r.polarity, r.n); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.migrate(ctx, 0); err != nil {
				t.Fatal(err)
			}
			for _, r := range narrow {
				var n int64
				col := themeColumns[themeCol(r.theme, r.polarity)]
				if err := s.rdb.QueryRowContext(ctx, `SELECT `+col+` FROM rollup_themes WHERE day = $1 AND site = $2 AND department = $3
					AND provider = $4 AND survey = $5 AND channel = $6`, r.day, r.site, r.dept, r.provider, r.survey, r.channel).Scan(&n); err != nil || n != r.n {
					t.Errorf("%+v: wide %s = %d, %v", r, col, n, err)
				}
			}
			// Every counter of the fine table adds up to the narrow rows'.
			var total, want int64
			for _, r := range narrow {
				want += r.n
			}
			if err := s.rdb.QueryRowContext(ctx, `SELECT `+themeSumAll()+` FROM rollup_themes`).Scan(&total); err != nil || total != want {
				t.Errorf("fine total %d, want %d (%v)", total, want, err)
			}
			// The coarse tables, through the queries the dashboards make.
			all := StatsQuery{Filter: StatsFilter{From: "2026-03-01", To: "2026-04-30"}}
			byProvider := all
			byProvider.Filter.Provider = "dr-x"
			byDept := all
			byDept.Filter.Department = "a"
			for _, tc := range []struct {
				name string
				q    StatsQuery
				want map[string]int
			}{
				{"site level", all, map[string]int{"wait_times negative": 3, "wait_times positive": 1, "privacy neutral": 2,
					"staff_attitude positive": 5, "follow_up negative": 1, "ignored negative": 4}},
				{"provider", byProvider, map[string]int{"wait_times negative": 3, "wait_times positive": 1, "privacy neutral": 2}},
				{"department", byDept, map[string]int{"wait_times negative": 3, "wait_times positive": 1, "privacy neutral": 2, "ignored negative": 4}},
			} {
				rows, err := s.StatsThemes(ctx, tc.q)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				got := map[string]int{}
				for _, r := range rows {
					got[r.Theme+" "+r.Polarity] += r.N
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: themes %v, want %v", tc.name, got, tc.want)
				}
			}
		})
	}
}

func themeSumAll() string {
	out := "COALESCE(SUM(" + themeColumns[0]
	for _, c := range themeColumns[1:] {
		out += " + " + c
	}
	return out + "), 0)"
}
