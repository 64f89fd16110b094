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
// site-level tables (migration 0002), one that filters on the department
// alone the department-level tables, and whole months come from the
// monthly tables (migration 0007; see StatsQuery.tables and Store.source).
// All are written in the same transaction as the fine rollups.

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
	upsertMonthDaily = upsertCounts("rollup_daily_month", "month", "site", "department", "provider", "survey", "channel")
	upsertSiteDaily  = upsertCounts("rollup_site_daily", "day", "site")
	upsertDeptDaily  = upsertCounts("rollup_dept_daily", "day", "site", "department")
)

const upsertSiteTheme = `INSERT INTO rollup_site_themes (day, site, theme, polarity, n) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (day, site, theme, polarity) DO UPDATE SET n = rollup_site_themes.n + excluded.n`

const upsertMonthTheme = `INSERT INTO rollup_site_themes_month (month, site, theme, polarity, n) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (month, site, theme, polarity) DO UPDATE SET n = rollup_site_themes_month.n + excluded.n`

const upsertMonthThemes = `INSERT INTO rollup_themes_month (month, site, department, provider, survey, channel, theme, polarity, n)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (month, site, department, provider, survey, channel, theme, polarity) DO UPDATE SET
	n = rollup_themes_month.n + excluded.n`

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
	// By month: the fine rollups, and the site-level themes.
	m := b.months()
	keys := make([]rollupKey, 0, len(m.daily))
	for k := range m.daily {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	for _, k := range keys {
		c := m.daily[k]
		if err := exec(upsertMonthDaily, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel,
			c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
			c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed); err != nil {
			return fmt.Errorf("storage: update monthly rollup: %w", err)
		}
	}
	tkeys := make([]themeKey, 0, len(m.themes))
	for k := range m.themes {
		tkeys = append(tkeys, k)
	}
	sortThemeKeys(tkeys)
	for _, k := range tkeys {
		if err := exec(upsertMonthThemes, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel,
			k.Theme, k.Polarity, m.themes[k]); err != nil {
			return fmt.Errorf("storage: update monthly theme rollup: %w", err)
		}
	}
	_, _, stkeys, sthemes := m.coarse(false)
	for _, k := range stkeys {
		if err := exec(upsertMonthTheme, k.Day, k.Site, k.Theme, k.Polarity, sthemes[k]); err != nil {
			return fmt.Errorf("storage: update monthly site theme rollup: %w", err)
		}
	}
	return nil
}

// months is b with each day cut to its month ('YYYY-MM').
func (b *rollupBatch) months() *rollupBatch {
	m := newRollupBatch()
	month := func(k rollupKey) rollupKey {
		k.Day = k.Day[:min(7, len(k.Day))]
		return k
	}
	for k, c := range b.daily {
		mk := month(k)
		d := m.daily[mk]
		if d == nil {
			d = &dailyCounts{}
			m.daily[mk] = d
		}
		d.Responses += c.Responses
		for i := range c.FFT {
			d.FFT[i] += c.FFT[i]
		}
		d.Promoters, d.Passives, d.Detractors = d.Promoters+c.Promoters, d.Passives+c.Passives, d.Detractors+c.Detractors
		d.Comments, d.Positive, d.Neutral = d.Comments+c.Comments, d.Positive+c.Positive, d.Neutral+c.Neutral
		d.Negative, d.Mixed = d.Negative+c.Negative, d.Mixed+c.Mixed
	}
	for k, n := range b.themes {
		m.themes[themeKey{month(k.rollupKey), k.Theme, k.Polarity}] += n
	}
	return m
}

// flushSites writes a batch's site- and department-level rollups. The group
// writer (and retag) call it in the batch's transaction, after the fine
// rollups.
func (b *rollupBatch) flushSites(ctx context.Context, tx *sql.Tx) error {
	// Each statement is prepared once per batch: unprepared, SQLite parsed
	// the upsert again for every key, which was ~40 % of the group
	// writer's CPU. (The writer's own statements are prepared before its
	// transaction; with SQLite's single write connection busy in it, this
	// code can only prepare on the transaction.)
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	return b.coarseUpserts(func(q string, args ...any) error {
		st := stmts[q]
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return err
			}
			stmts[q] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	})
}
