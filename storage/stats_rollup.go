package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Coarser rollups for the dashboards: the fine rollups keep department,
// provider, survey and channel apart (~50 rows per site and day, ~1,000
// theme rows), so a query that filters on none of those reads the
// site-level tables (migration 0002), one that filters on the department
// alone the department-level tables, one that filters on a provider, a
// survey or a channel alone, or on a survey and a channel, the
// per-dimension tables (migration 0008), and whole months come from the
// monthly tables (migration 0007; see StatsQuery.tables and Store.source).
// All are written in the same transaction as the fine rollups.

// upsert adds a row's counters to a rollup table, inserting the row if it
// is not there yet.
type upsert struct {
	table string
	keys  []string // the primary key; a row's key values come first
	sums  []string // the counters
	sql   string   // for one row
}

func newUpsert(table string, keys, sums []string) upsert {
	u := upsert{table: table, keys: keys, sums: sums}
	cols := append(append([]string{}, keys...), sums...)
	ph := make([]string, len(cols))
	for i := range cols {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	set := make([]string, len(sums))
	for i, c := range sums {
		set[i] = c + " = " + table + "." + c + " + excluded." + c
	}
	u.sql = "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(ph, ", ") +
		") ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	return u
}

var dailySums = []string{"responses", "fft_0", "fft_1", "fft_2", "fft_3", "fft_4", "fft_5",
	"nps_promoters", "nps_passives", "nps_detractors", "comments", "positive", "neutral", "negative", "mixed"}

var (
	upsertSiteDaily   = newUpsert("rollup_site_daily", []string{"day", "site"}, dailySums)
	upsertDeptDaily   = newUpsert("rollup_dept_daily", []string{"day", "site", "department"}, dailySums)
	upsertMonthDaily  = newUpsert("rollup_daily_month", []string{"month", "site", "department", "provider", "survey", "channel"}, dailySums)
	upsertDimDaily    = newUpsert("rollup_dim_daily", []string{"dim", "value", "day", "site", "channel"}, dailySums)
	upsertSiteTheme   = newUpsert("rollup_site_themes", []string{"day", "site", "theme", "polarity"}, []string{"n"})
	upsertDeptTheme   = newUpsert("rollup_dept_themes", []string{"day", "site", "department", "theme", "polarity"}, []string{"n"})
	upsertMonthThemes = newUpsert("rollup_themes_month", []string{"month", "site", "department", "provider", "survey", "channel", "theme", "polarity"}, []string{"n"})
	upsertMonthTheme  = newUpsert("rollup_site_themes_month", []string{"month", "site", "theme", "polarity"}, []string{"n"})
	upsertDimTheme    = newUpsert("rollup_dim_themes", []string{"dim", "value", "day", "site", "channel", "theme", "polarity"}, []string{"n"})
	upsertDeptDim     = newUpsert("rollup_dept_dim_themes", []string{"department", "dim", "value", "day", "site", "channel", "theme", "polarity"}, []string{"n"})
)

// write calls exec with u for each row of args (the rows' arguments one
// after another, in key order).
func (u upsert) write(exec func(query string, args ...any) error, args []any) error {
	w := len(u.keys) + len(u.sums)
	for ; len(args) >= w; args = args[w:] {
		if err := exec(u.sql, args[:w]...); err != nil {
			return fmt.Errorf("storage: update %s: %w", u.table, err)
		}
	}
	return nil
}

func countArgs(args []any, c *dailyCounts) []any {
	return append(args, c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
		c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed)
}

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
		addCounts(daily, cut(k), c)
	}
	themes := map[themeKey]int64{}
	for k, n := range b.themes {
		themes[themeKey{cut(k.rollupKey), k.Theme, k.Polarity}] += n
	}
	return sortedKeys(daily, rollupKey.less), daily, sortedKeys(themes, themeKey.less), themes
}

func (a themeKey) less(b themeKey) bool {
	if a.rollupKey != b.rollupKey {
		return a.rollupKey.less(b.rollupKey)
	}
	return a.Theme < b.Theme || a.Theme == b.Theme && a.Polarity < b.Polarity
}

// sortedKeys returns m's keys in less order: every rollup table is written
// in key order (no deadlocks between PostgreSQL instances).
func sortedKeys[K comparable, V any](m map[K]V, less func(a, b K) bool) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	return keys
}

// addCounts adds c to the row k of m, making the row if it is new.
func addCounts[K comparable](m map[K]*dailyCounts, k K, c *dailyCounts) {
	d := m[k]
	if d == nil {
		d = &dailyCounts{}
		m[k] = d
	}
	d.add(c)
}

// coarseUpserts calls exec with the upserts of the site-level, the
// department-level, the monthly and the per-dimension rollups of a batch,
// each table's rows in key order (no deadlocks between PostgreSQL
// instances).
func (b *rollupBatch) coarseUpserts(exec func(query string, args ...any) error) error {
	for _, dept := range []bool{false, true} {
		keys, daily, tkeys, themes := b.coarse(dept)
		ud, ut := upsertSiteDaily, upsertSiteTheme
		if dept {
			ud, ut = upsertDeptDaily, upsertDeptTheme
		}
		var args []any
		for _, k := range keys {
			args = append(args, k.Day, k.Site)
			if dept {
				args = append(args, k.Department)
			}
			args = countArgs(args, daily[k])
		}
		if err := ud.write(exec, args); err != nil {
			return err
		}
		args = nil
		for _, k := range tkeys {
			args = append(args, k.Day, k.Site)
			if dept {
				args = append(args, k.Department)
			}
			args = append(args, k.Theme, k.Polarity, themes[k])
		}
		if err := ut.write(exec, args); err != nil {
			return err
		}
	}
	// By month: the fine rollups, and the site-level themes.
	m := b.months()
	keys := sortedKeys(m.daily, rollupKey.less)
	// Each statement's arguments are a slice of their own: a pgx batch
	// keeps them until it is sent.
	var args []any
	for _, k := range keys {
		args = countArgs(append(args, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel), m.daily[k])
	}
	if err := upsertMonthDaily.write(exec, args); err != nil {
		return err
	}
	args = nil
	for _, k := range sortedKeys(m.themes, themeKey.less) {
		args = append(args, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel, k.Theme, k.Polarity, m.themes[k])
	}
	if err := upsertMonthThemes.write(exec, args); err != nil {
		return err
	}
	_, _, stkeys, sthemes := m.coarse(false)
	args = nil
	for _, k := range stkeys {
		args = append(args, k.Day, k.Site, k.Theme, k.Polarity, sthemes[k])
	}
	if err := upsertMonthTheme.write(exec, args); err != nil {
		return err
	}
	if !rollupDims {
		return nil
	}
	dkeys, ddaily, dtkeys, dthemes := b.dims()
	args = nil
	for _, k := range dkeys {
		args = countArgs(append(args, k.Dim, k.Value, k.Day, k.Site, k.Channel), ddaily[k])
	}
	if err := upsertDimDaily.write(exec, args); err != nil {
		return err
	}
	args = nil
	for _, k := range dtkeys {
		args = append(args, k.Dim, k.Value, k.Day, k.Site, k.Channel, k.Theme, k.Polarity, dthemes[k])
	}
	if err := upsertDimTheme.write(exec, args); err != nil {
		return err
	}
	etkeys, ethemes := b.deptDims()
	args = nil
	for _, k := range etkeys {
		args = append(args, k.Department, k.Dim, k.Value, k.Day, k.Site, k.Channel, k.Theme, k.Polarity, ethemes[k])
	}
	return upsertDeptDim.write(exec, args)
}

// deptDimKey is a row of the department-keyed per-dimension theme rollup
// (migration 0010): a dimThemeKey within one named department.
type deptDimKey struct {
	Department string
	dimThemeKey
}

// deptDims sums a batch's fine theme keys per department and dimension,
// keys in the table's primary-key order.
func (b *rollupBatch) deptDims() ([]deptDimKey, map[deptDimKey]int64) {
	themes := map[deptDimKey]int64{}
	for k, n := range b.themes {
		if k.Department == "" {
			continue
		}
		for _, dk := range dimsOf(k.rollupKey) {
			themes[deptDimKey{k.Department, dimThemeKey{dk, k.Theme, k.Polarity}}] += n
		}
	}
	return sortedKeys(themes, func(a, b deptDimKey) bool {
		if a.Department != b.Department {
			return a.Department < b.Department
		}
		return a.dimThemeKey.less(b.dimThemeKey)
	}), themes
}

// rollupDims turns the per-dimension rollups (migrations 0008 and 0010)
// off, only for the benchmark that prices them (stats_dims_test.go); the
// tables are then wrong.
var rollupDims = true

// dimKey is a row of the per-dimension rollups (migration 0008): one named
// provider, survey or channel on one day at one site. Survey rows keep the
// channel apart, so that a survey and a channel filtered together read them
// too; the other dimensions' rows have Channel "".
type dimKey struct{ Dim, Value, Day, Site, Channel string }

func (k dimKey) less(o dimKey) bool {
	a := [5]string{k.Dim, k.Value, k.Day, k.Site, k.Channel}
	b := [5]string{o.Dim, o.Value, o.Day, o.Site, o.Channel}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

type dimThemeKey struct {
	dimKey
	Theme, Polarity string
}

func (a dimThemeKey) less(b dimThemeKey) bool {
	if a.dimKey != b.dimKey {
		return a.dimKey.less(b.dimKey)
	}
	return a.Theme < b.Theme || a.Theme == b.Theme && a.Polarity < b.Polarity
}

// dimsOf lists the per-dimension rows a fine rollup key adds to; "none" is
// left out, since no filter can ask for it.
func dimsOf(k rollupKey) []dimKey {
	out := make([]dimKey, 0, 3)
	if k.Channel != "" {
		out = append(out, dimKey{"channel", k.Channel, k.Day, k.Site, ""})
	}
	if k.Provider != "" {
		out = append(out, dimKey{"provider", k.Provider, k.Day, k.Site, ""})
	}
	if k.Survey != "" {
		out = append(out, dimKey{"survey", k.Survey, k.Day, k.Site, k.Channel})
	}
	return out
}

// dims sums a batch's fine rollup keys per dimension, keys in the tables'
// primary-key order.
func (b *rollupBatch) dims() ([]dimKey, map[dimKey]*dailyCounts, []dimThemeKey, map[dimThemeKey]int64) {
	daily := map[dimKey]*dailyCounts{}
	for k, c := range b.daily {
		for _, dk := range dimsOf(k) {
			addCounts(daily, dk, c)
		}
	}
	themes := map[dimThemeKey]int64{}
	for k, n := range b.themes {
		for _, dk := range dimsOf(k.rollupKey) {
			themes[dimThemeKey{dk, k.Theme, k.Polarity}] += n
		}
	}
	return sortedKeys(daily, dimKey.less), daily, sortedKeys(themes, dimThemeKey.less), themes
}

func (d *dailyCounts) add(c *dailyCounts) {
	d.Responses += c.Responses
	for i := range c.FFT {
		d.FFT[i] += c.FFT[i]
	}
	d.Promoters, d.Passives, d.Detractors = d.Promoters+c.Promoters, d.Passives+c.Passives, d.Detractors+c.Detractors
	d.Comments, d.Positive, d.Neutral = d.Comments+c.Comments, d.Positive+c.Positive, d.Neutral+c.Neutral
	d.Negative, d.Mixed = d.Negative+c.Negative, d.Mixed+c.Mixed
}

// months is b with each day cut to its month ('YYYY-MM').
func (b *rollupBatch) months() *rollupBatch {
	m := newRollupBatch()
	month := func(k rollupKey) rollupKey {
		k.Day = k.Day[:min(7, len(k.Day))]
		return k
	}
	for k, c := range b.daily {
		addCounts(m.daily, month(k), c)
	}
	for k, n := range b.themes {
		m.themes[themeKey{month(k.rollupKey), k.Theme, k.Polarity}] += n
	}
	return m
}

// flushSites writes a batch's coarse rollups (coarseUpserts). The group
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
