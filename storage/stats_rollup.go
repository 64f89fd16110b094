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
// provider, survey and channel apart (~50 rows per site and day), so a query that filters on none of those reads the
// site-level tables (migration 0002), one that filters on the department
// alone the department-level tables, one that filters on a provider, a
// survey or a channel alone, or on a survey and a channel, the
// per-dimension tables (migration 0008), and whole months come from the
// monthly tables (migration 0007; see StatsQuery.tables and Store.source).
// All are written in the same transaction as the fine rollups. Each theme
// table keeps one row per key with a counter per theme and polarity
// (migration 0012).

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
	upsertSiteTheme   = newUpsert("rollup_site_themes", []string{"day", "site"}, themeColumns)
	upsertDeptTheme   = newUpsert("rollup_dept_themes", []string{"day", "site", "department"}, themeColumns)
	upsertMonthThemes = newUpsert("rollup_themes_month", []string{"month", "site", "department", "provider", "survey", "channel"}, themeColumns)
	upsertMonthTheme  = newUpsert("rollup_site_themes_month", []string{"month", "site"}, themeColumns)
	upsertDimTheme    = newUpsert("rollup_dim_themes", []string{"dim", "value", "day", "site", "channel"}, themeColumns)
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

// rollupThemeIDs are the theme ids of SPEC.md in the order of the wide
// theme rollups' columns (migration 0012); a test holds them to the
// analyzer's.
var rollupThemeIDs = []string{"wait_times", "ignored", "dismissed", "staff_attitude", "communication",
	"access", "environment", "clinical_care", "follow_up", "billing", "privacy"}

// rollupPolarities are a theme hit's polarities, with their column suffixes.
var rollupPolarities = [...][2]string{{"positive", "pos"}, {"neutral", "neu"}, {"negative", "neg"}}

// numThemeCols is the number of counters of a wide theme rollup row.
const numThemeCols = 11 * len(rollupPolarities)

// themeColumns names the counters of the wide theme rollups, theme-major:
// wait_times_pos, wait_times_neu, wait_times_neg, ignored_pos, …
var themeColumns = func() []string {
	out := make([]string, 0, numThemeCols)
	for _, t := range rollupThemeIDs {
		for _, p := range rollupPolarities {
			out = append(out, t+"_"+p[1])
		}
	}
	return out
}()

// negativeThemeCols are the counters of complaints (negative mentions).
var negativeThemeCols = func() []int {
	var out []int
	for i := range numThemeCols {
		if _, p := themeOfCol(i); p == "negative" {
			out = append(out, i)
		}
	}
	return out
}()

// themeCol is the counter of theme id with polarity, or -1 for a pair the
// rollups have no column for (the analyzer makes none).
func themeCol(id, polarity string) int {
	for i, t := range rollupThemeIDs {
		if t == id {
			for j, p := range rollupPolarities {
				if p[0] == polarity {
					return i*len(rollupPolarities) + j
				}
			}
			return -1
		}
	}
	return -1
}

// themeOfCol is the theme id and polarity of counter i.
func themeOfCol(i int) (id, polarity string) {
	return rollupThemeIDs[i/len(rollupPolarities)], rollupPolarities[i%len(rollupPolarities)][0]
}

// themeCounts is a wide theme rollup row's counters: comments mentioning
// each theme with each polarity.
type themeCounts [numThemeCols]int64

func (t *themeCounts) add(o *themeCounts) {
	for i, n := range o {
		t[i] += n
	}
}

func themeArgs(args []any, t *themeCounts) []any {
	for _, n := range t {
		args = append(args, n)
	}
	return args
}

// coarse sums a batch's fine rollup keys over provider, survey and channel,
// and over department too unless keepDept. The keys come back in the fine
// rollups' order (no deadlocks between PostgreSQL instances).
func (b *rollupBatch) coarse(keepDept bool) ([]rollupKey, map[rollupKey]*dailyCounts, []rollupKey, map[rollupKey]*themeCounts) {
	cut := func(k rollupKey) rollupKey {
		c := rollupKey{Day: k.Day, Site: k.Site}
		if keepDept {
			c.Department = k.Department
		}
		return c
	}
	daily := map[rollupKey]*dailyCounts{}
	for k, c := range b.daily {
		addRow(daily, cut(k), c)
	}
	themes := map[rollupKey]*themeCounts{}
	for k, t := range b.themes {
		addRow(themes, cut(k), t)
	}
	return sortedKeys(daily, rollupKey.less), daily, sortedKeys(themes, rollupKey.less), themes
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

// counters are a rollup row's counters (dailyCounts, themeCounts).
type counters[V any] interface {
	*V
	add(*V)
}

// addRow adds c to the row k of m, making the row if it is new.
func addRow[K comparable, V any, P counters[V]](m map[K]*V, k K, c *V) {
	d := m[k]
	if d == nil {
		d = new(V)
		m[k] = d
	}
	P(d).add(c)
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
			args = themeArgs(args, themes[k])
		}
		if err := ut.write(exec, args); err != nil {
			return err
		}
	}
	// By month: the fine rollups, and the site-level themes.
	m := b.months()
	// Each statement's arguments are a slice of their own: a pgx batch
	// keeps them until it is sent.
	var args []any
	for _, k := range sortedKeys(m.daily, rollupKey.less) {
		args = countArgs(append(args, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel), m.daily[k])
	}
	if err := upsertMonthDaily.write(exec, args); err != nil {
		return err
	}
	args = nil
	for _, k := range sortedKeys(m.themes, rollupKey.less) {
		args = themeArgs(append(args, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel), m.themes[k])
	}
	if err := upsertMonthThemes.write(exec, args); err != nil {
		return err
	}
	_, _, stkeys, sthemes := m.coarse(false)
	args = nil
	for _, k := range stkeys {
		args = themeArgs(append(args, k.Day, k.Site), sthemes[k])
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
		args = themeArgs(append(args, k.Dim, k.Value, k.Day, k.Site, k.Channel), dthemes[k])
	}
	return upsertDimTheme.write(exec, args)
}

// rollupDims turns the per-dimension rollups (migrations 0008 and 0012)
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
func (b *rollupBatch) dims() ([]dimKey, map[dimKey]*dailyCounts, []dimKey, map[dimKey]*themeCounts) {
	daily := map[dimKey]*dailyCounts{}
	for k, c := range b.daily {
		for _, dk := range dimsOf(k) {
			addRow(daily, dk, c)
		}
	}
	themes := map[dimKey]*themeCounts{}
	for k, t := range b.themes {
		for _, dk := range dimsOf(k) {
			addRow(themes, dk, t)
		}
	}
	return sortedKeys(daily, dimKey.less), daily, sortedKeys(themes, dimKey.less), themes
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
		addRow(m.daily, month(k), c)
	}
	for k, t := range b.themes {
		addRow(m.themes, month(k), t)
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
