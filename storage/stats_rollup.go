package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Coarser rollups for the dashboards: the fine rollups keep department,
// provider, survey and channel apart (~50 rows per site and day, ~1,000
// theme rows), so a query that filters on none of those reads the
// site-level tables (migration 0002), and one that filters on the
// department alone reads the department-level tables (migration 0007).
// Both are written in the same transaction as the fine rollups.

// upsertCounts returns the upsert of one row of a daily-counts table keyed
// by keyCols, whose values come first in the argument list.
func upsertCounts(table string, keyCols ...string) string {
	cols := []string{"responses", "fft_0", "fft_1", "fft_2", "fft_3", "fft_4", "fft_5",
		"nps_promoters", "nps_passives", "nps_detractors", "comments", "positive", "neutral", "negative", "mixed"}
	all := append(append([]string{}, keyCols...), cols...)
	q := "INSERT INTO " + table + " (" + strings.Join(all, ", ") + ") VALUES ("
	for i := range all {
		if i > 0 {
			q += ", "
		}
		q += fmt.Sprintf("$%d", i+1)
	}
	q += ") ON CONFLICT (" + strings.Join(keyCols, ", ") + ") DO UPDATE SET "
	for i, c := range cols {
		if i > 0 {
			q += ", "
		}
		q += c + " = " + table + "." + c + " + excluded." + c
	}
	return q
}

var (
	upsertSiteDaily = upsertCounts("rollup_site_daily", "day", "site")
	upsertDeptDaily = upsertCounts("rollup_dept_daily", "day", "site", "department")
)

const upsertSiteTheme = `INSERT INTO rollup_site_themes (day, site, theme, polarity, n) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (day, site, theme, polarity) DO UPDATE SET n = rollup_site_themes.n + excluded.n`

const upsertDeptTheme = `INSERT INTO rollup_dept_themes (day, site, department, theme, polarity, n) VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (day, site, department, theme, polarity) DO UPDATE SET n = rollup_dept_themes.n + excluded.n`

// coarse sums a batch's fine rollup keys over provider, survey and channel,
// and over department too unless keepDept. The keys come back in the fine
// rollups' order (no deadlocks between PostgreSQL instances).
func (b *rollupBatch) coarse(keepDept bool) ([]rollupKey, map[rollupKey]*dailyCounts, []themeKey, map[themeKey]int64) {
	cut := func(k rollupKey) rollupKey {
		c := rollupKey{Day: k.Day, Site: k.Site}
		if keepDept {
			c.Department = k.Department
		}
		return c
	}
	daily := map[rollupKey]*dailyCounts{}
	for k, c := range b.daily {
		ck := cut(k)
		d := daily[ck]
		if d == nil {
			d = &dailyCounts{}
			daily[ck] = d
		}
		d.Responses += c.Responses
		for i := range c.FFT {
			d.FFT[i] += c.FFT[i]
		}
		d.Promoters, d.Passives, d.Detractors = d.Promoters+c.Promoters, d.Passives+c.Passives, d.Detractors+c.Detractors
		d.Comments, d.Positive, d.Neutral = d.Comments+c.Comments, d.Positive+c.Positive, d.Neutral+c.Neutral
		d.Negative, d.Mixed = d.Negative+c.Negative, d.Mixed+c.Mixed
	}
	keys := make([]rollupKey, 0, len(daily))
	for k := range daily {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	themes := map[themeKey]int64{}
	for k, n := range b.themes {
		themes[themeKey{cut(k.rollupKey), k.Theme, k.Polarity}] += n
	}
	tkeys := make([]themeKey, 0, len(themes))
	for k := range themes {
		tkeys = append(tkeys, k)
	}
	sortThemeKeys(tkeys)
	return keys, daily, tkeys, themes
}

func sortThemeKeys(tkeys []themeKey) {
	sort.Slice(tkeys, func(i, j int) bool {
		a, b := tkeys[i], tkeys[j]
		if a.rollupKey != b.rollupKey {
			return a.rollupKey.less(b.rollupKey)
		}
		return a.Theme < b.Theme || a.Theme == b.Theme && a.Polarity < b.Polarity
	})
}

// coarseUpserts calls exec with each upsert of the site-level and then the
// department-level rollups of a batch.
func (b *rollupBatch) coarseUpserts(exec func(query string, args ...any) error) error {
	for _, dept := range []bool{false, true} {
		keys, daily, tkeys, themes := b.coarse(dept)
		for _, k := range keys {
			c := daily[k]
			q, args := upsertSiteDaily, []any{k.Day, k.Site}
			if dept {
				q, args = upsertDeptDaily, append(args, k.Department)
			}
			args = append(args, c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
				c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed)
			if err := exec(q, args...); err != nil {
				return fmt.Errorf("storage: update coarse rollup: %w", err)
			}
		}
		for _, k := range tkeys {
			q, args := upsertSiteTheme, []any{k.Day, k.Site}
			if dept {
				q, args = upsertDeptTheme, append(args, k.Department)
			}
			if err := exec(q, append(args, k.Theme, k.Polarity, themes[k])...); err != nil {
				return fmt.Errorf("storage: update coarse theme rollup: %w", err)
			}
		}
	}
	return nil
}

// flushSites writes a batch's site- and department-level rollups. The group
// writer (and retag) call it in the batch's transaction, after the fine
// rollups.
func (b *rollupBatch) flushSites(ctx context.Context, tx *sql.Tx) error {
	return b.coarseUpserts(func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}
