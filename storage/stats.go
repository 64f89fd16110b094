package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carevoice/carevoice/stats"
)

// StatsFilter selects the rollup rows behind a dashboard number. Days are the
// local days the rollup is keyed by ('YYYY-MM-DD' in each site's zone), so a
// day range means the same calendar dates at every site.
type StatsFilter struct {
	From, To string   // From inclusive, To exclusive
	Sites    []string // only these sites; nil means every site
	// Empty means "any"; the rollup stores "none" as "", so these filters
	// can only ask for a named department, provider, survey or channel.
	Department, Provider, Survey, Channel string
}

// StatsQuery is one aggregation over the rollups. Rows whose day is on or
// after CurrentFrom are marked Current, the rest belong to the previous
// period, which ends at PreviousTo when that is set (a 12-month period is
// compared with the same months a year before, leaving a gap between the
// two); Bucket groups by day, week (starting Monday) or month, or not at
// all when empty; BySite keeps sites apart.
type StatsQuery struct {
	Filter      StatsFilter
	CurrentFrom string
	PreviousTo  string
	Bucket      stats.Granularity
	BySite      bool
}

// Counts are the summed rollup counters of one segment.
type Counts struct {
	Responses int             `json:"responses"`
	FFT       stats.FFTCounts `json:"fft"`
	NPS       stats.NPSCounts `json:"nps"`
	Comments  int             `json:"comments"`
	Positive  int             `json:"positive"`
	Neutral   int             `json:"neutral"`
	Negative  int             `json:"negative"`
	Mixed     int             `json:"mixed"`
}

// Add sums two segments.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.Responses + o.Responses, c.FFT.Add(o.FFT), c.NPS.Add(o.NPS), c.Comments + o.Comments,
		c.Positive + o.Positive, c.Neutral + o.Neutral, c.Negative + o.Negative, c.Mixed + o.Mixed}
}

// CountRow is one group of a StatsCounts answer. Bucket is "" without
// bucketing, Site "" without BySite.
type CountRow struct {
	Current bool
	Bucket  string
	Site    string
	Counts
}

// ThemeRow is one group of a StatsThemes answer: comments that mention
// Theme with Polarity.
type ThemeRow struct {
	Current  bool
	Bucket   string
	Site     string
	Theme    string
	Polarity string
	N        int
}

// where builds the WHERE clause shared by both rollup tables and the
// comment explorer; col prefixes the column names.
type where struct {
	parts []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.parts = append(w.parts, cond) }

func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col + " = " + w.arg(v))
	}
}

func (w *where) in(col string, vs []string) {
	if vs == nil {
		return
	}
	if len(vs) == 0 {
		// A caller that may see no site sees nothing, not everything.
		w.add("1 = 0")
		return
	}
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = w.arg(v)
	}
	w.add(col + " IN (" + strings.Join(ph, ", ") + ")")
}

func (w *where) sql() string {
	if len(w.parts) == 0 {
		return "1 = 1"
	}
	return strings.Join(w.parts, " AND ")
}

// filter adds the dimension filters on a table aliased p ("" for none).
func (w *where) filter(f StatsFilter, dayCol, p string) {
	w.add(dayCol + " >= " + w.arg(f.From))
	w.add(dayCol + " < " + w.arg(f.To))
	w.in(p+"site", f.Sites)
	w.eq(p+"department", f.Department)
	w.eq(p+"provider", f.Provider)
	w.eq(p+"survey", f.Survey)
	w.eq(p+"channel", f.Channel)
}

// bucketExpr is the SQL for a day's bucket key, matching stats.BucketKey:
// the day itself, 'YYYY-MM', or for weeks (starting Monday) the week's
// number since weekEpoch, which weekKey turns into its Monday. Date
// functions cost ~3 µs a row on PostgreSQL (to_char) and ~1 µs on SQLite,
// which over the ~30,000 rows of a year's weeks was most of the query; the
// number is integer arithmetic on a parsed day.
func (s *Store) bucketExpr(g stats.Granularity) (string, error) {
	switch g {
	case "":
		return "''", nil
	case stats.Day:
		return "day", nil
	case stats.Month:
		return "substr(day, 1, 7)", nil
	case stats.Week:
		if s.dialect == "postgres" {
			return "((day::date - DATE '1900-01-01') / 7)", nil
		}
		return "(CAST(julianday(day) - 2415020.5 AS INTEGER) / 7)", nil // julianday('1900-01-01')
	}
	return "", fmt.Errorf("storage: unknown bucket %q: %w", g, ErrInvalid)
}

// weekEpoch is a Monday before any response.
var weekEpoch = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// weekKey turns the week number bucketExpr returns into the week's Monday.
func weekKey(g stats.Granularity, b string) (string, error) {
	if g != stats.Week {
		return b, nil
	}
	n, err := strconv.Atoi(b)
	if err != nil {
		return "", fmt.Errorf("storage: week bucket %q: %w", b, err)
	}
	return weekEpoch.AddDate(0, 0, 7*n).Format(time.DateOnly), nil
}

// groupCols returns the select/group expressions common to both queries.
func (s *Store) groupCols(q StatsQuery, w *where) (cur, bucket, site string, err error) {
	cur = "1"
	if q.CurrentFrom != "" {
		cur = "CASE WHEN day >= " + w.arg(q.CurrentFrom) + " THEN 1 ELSE 0 END"
	}
	if bucket, err = s.bucketExpr(q.Bucket); err != nil {
		return
	}
	site = "''"
	if q.BySite {
		site = "site"
	}
	return
}

// filterGap adds the filter for table and leaves out the days between the
// previous and the current period.
func (s *Store) filterGap(q StatsQuery, w *where, table string) {
	w.add("day >= " + w.arg(q.Filter.From))
	w.add("day < " + w.arg(q.Filter.To))
	w.dims(q.Filter, table)
	if q.PreviousTo != "" && q.CurrentFrom != "" && q.PreviousTo < q.CurrentFrom {
		w.add("(day < " + w.arg(q.PreviousTo) + " OR day >= " + w.arg(q.CurrentFrom) + ")")
	}
}

// tables picks the coarsest rollups (daily counts, themes) that can answer
// q: the site-level ones sum over department, provider, survey and channel,
// the department-level ones over the last three, the per-dimension ones keep
// one provider, survey (by channel) or channel (stats_rollup.go). Other
// combinations read the fine ones, by the department's or the provider's
// index (a department's fine rows are a few thousand a year, its theme rows
// no more: migration 0012).
func (q StatsQuery) tables() (daily, themes string) {
	f := q.Filter
	if d, _, _ := f.dim(); d != "" {
		return "rollup_dim_daily", "rollup_dim_themes"
	}
	switch {
	case f.Provider != "" || f.Survey != "" || f.Channel != "":
		return "rollup_daily", "rollup_themes"
	case f.Department != "":
		return "rollup_dept_daily", "rollup_dept_themes"
	}
	return "rollup_site_daily", "rollup_site_themes"
}

// dim says which per-dimension rollup rows answer f: those of one provider,
// survey or channel, and for a survey filtered with a channel, of that
// channel alone. name is "" when no per-dimension rows can answer f.
func (f StatsFilter) dim() (name, value, channel string) {
	switch {
	case f.Department != "":
		return "", "", ""
	case f.Provider != "":
		if f.Survey == "" && f.Channel == "" {
			return "provider", f.Provider, ""
		}
	case f.Survey != "":
		return "survey", f.Survey, f.Channel
	case f.Channel != "":
		return "channel", f.Channel, ""
	}
	return "", "", ""
}

// dims adds f's site and dimension filters for table.
func (w *where) dims(f StatsFilter, table string) {
	if strings.HasPrefix(table, "rollup_dim_") {
		d, v, ch := f.dim()
		w.add("dim = " + w.arg(d))
		w.add("value = " + w.arg(v))
		w.in("site", f.Sites)
		w.eq("channel", ch)
		return
	}
	w.in("site", f.Sites)
	w.eq("department", f.Department)
	w.eq("provider", f.Provider)
	w.eq("survey", f.Survey)
	w.eq("channel", f.Channel)
}

// StatsCounts sums the daily rollup by period, bucket and site. It never
// reads responses: a dashboard over a million responses reads a few
// thousand rollup rows.
func (s *Store) StatsCounts(ctx context.Context, q StatsQuery) ([]CountRow, error) {
	table, _ := q.tables()
	w := &where{}
	cur, bucket, site, err := s.groupCols(q, w)
	if err != nil {
		return nil, err
	}
	from := s.source(q, w, table, countCols)
	query := `SELECT ` + cur + ` AS cur, ` + bucket + ` AS bucket, ` + site + ` AS s,
		SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
		SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors),
		SUM(comments), SUM(positive), SUM(neutral), SUM(negative), SUM(mixed)
		FROM ` + from + ` WHERE ` + w.sql() + ` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	rows, done, err := s.statsRows(ctx, query, w.args)
	if err != nil {
		return nil, fmt.Errorf("storage: stats counts: %w", err)
	}
	defer done()
	var out []CountRow
	for rows.Next() {
		var r CountRow
		var c int
		f := &r.FFT
		if err := rows.Scan(&c, &r.Bucket, &r.Site, &r.Responses, &f.DontKnow, &f.VeryGood, &f.Good, &f.Neither, &f.Poor, &f.VeryPoor,
			&r.NPS.Promoters, &r.NPS.Passives, &r.NPS.Detractors,
			&r.Comments, &r.Positive, &r.Neutral, &r.Negative, &r.Mixed); err != nil {
			return nil, fmt.Errorf("storage: stats counts: %w", err)
		}
		if r.Bucket, err = weekKey(q.Bucket, r.Bucket); err != nil {
			return nil, err
		}
		r.Current = c == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: stats counts: %w", err)
	}
	return out, nil
}

// StatsThemes sums the theme rollups by period, bucket, site, theme and
// polarity. Each comment counts once per theme it mentions.
func (s *Store) StatsThemes(ctx context.Context, q StatsQuery) ([]ThemeRow, error) {
	_, table := q.tables()
	w := &where{}
	cur, bucket, site, err := s.groupCols(q, w)
	if err != nil {
		return nil, err
	}
	from := s.source(q, w, table, themeColList)
	query := `SELECT ` + cur + ` AS cur, ` + bucket + ` AS bucket, ` + site + ` AS s, ` + themeSums +
		` FROM ` + from + ` WHERE ` + w.sql() + ` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	rows, done, err := s.statsRows(ctx, query, w.args)
	if err != nil {
		return nil, fmt.Errorf("storage: stats themes: %w", err)
	}
	defer done()
	var out []ThemeRow
	var n themeCounts
	dest := make([]any, 3, 3+numThemeCols)
	for i := range n {
		dest = append(dest, &n[i])
	}
	for rows.Next() {
		var r ThemeRow
		var c int
		dest[0], dest[1], dest[2] = &c, &r.Bucket, &r.Site
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("storage: stats themes: %w", err)
		}
		if r.Bucket, err = weekKey(q.Bucket, r.Bucket); err != nil {
			return nil, err
		}
		r.Current = c == 1
		// One row per theme and polarity mentioned, as the narrow tables
		// gave them, in the same order (theme, then polarity).
		for _, i := range themeColsByName {
			if n[i] != 0 {
				r.Theme, r.Polarity = themeOfCol(i)
				r.N = int(n[i])
				out = append(out, r)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: stats themes: %w", err)
	}
	return out, nil
}

var (
	themeColList = strings.Join(themeColumns, ", ")
	themeSums    = "SUM(" + strings.Join(themeColumns, "), SUM(") + ")"
	// themeColsByName orders the counters by theme id, then polarity.
	themeColsByName = func() []int {
		idx := make([]int, numThemeCols)
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool {
			ta, pa := themeOfCol(idx[a])
			tb, pb := themeOfCol(idx[b])
			return ta < tb || ta == tb && pa < pb
		})
		return idx
	}()
)

// statsRows runs a stats query; done releases the rows. On PostgreSQL the
// plan is made for the values at hand: the driver keeps statements
// prepared, and from the sixth run PostgreSQL may switch to a generic plan,
// which for a year of weeks sorted ~30,000 rows instead of hashing them
// (180 ms instead of 60 ms).
func (s *Store) statsRows(ctx context.Context, query string, args []any) (*sql.Rows, func(), error) {
	return s.readRows(ctx, "SET LOCAL plan_cache_mode = force_custom_plan", query, args...)
}

// readRows runs a read query; done closes the rows. On PostgreSQL with a
// setup statement (a SET LOCAL, a lock) the query runs in a read-only
// transaction that runs setup first and that done ends; otherwise the read
// pool answers it directly.
func (s *Store) readRows(ctx context.Context, setup, query string, args ...any) (rows *sql.Rows, done func(), err error) {
	if s.dialect != "postgres" || setup == "" {
		if rows, err = s.rdb.QueryContext(ctx, query, args...); err != nil {
			return nil, nil, err
		}
		return rows, func() { rows.Close() }, nil
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, setup); err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	if rows, err = tx.QueryContext(ctx, query, args...); err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return rows, func() { rows.Close(); tx.Rollback() }, nil
}

const countCols = `responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5, nps_promoters, nps_passives, nps_detractors,
	comments, positive, neutral, negative, mixed`

// monthTables names the by-month copies of the daily rollups (migration
// 0007).
var monthTables = map[string]string{
	"rollup_daily":       "rollup_daily_month",
	"rollup_themes":      "rollup_themes_month",
	"rollup_site_themes": "rollup_site_themes_month",
	"rollup_dim_daily":   "rollup_daily_month",
	"rollup_dim_themes":  "rollup_themes_month",
}

// source returns what a stats query reads FROM, adding its filter to w:
// the daily table itself, or, when whole months lie inside the days asked
// for and buckets are no finer than a month, the union of those months from
// the monthly table (stated as their first day: a month lies inside one
// period, so cur and the month bucket come out as for its days) and the
// days at the edges from the daily table. A 12-month view then reads ~30
// times fewer rows.
func (s *Store) source(q StatsQuery, w *where, table, cols string) string {
	if mt := monthTables[table]; mt != "" && (q.Bucket == "" || q.Bucket == stats.Month) {
		if days, months := q.monthSplit(); len(months) > 0 {
			var parts []string
			for _, r := range days {
				parts = append(parts, rangeSelect(w, q.Filter, "day", table, cols, r))
			}
			for _, r := range months {
				parts = append(parts, rangeSelect(w, q.Filter, "month", mt, cols, r))
			}
			return "(" + strings.Join(parts, " UNION ALL ") + ") x"
		}
	}
	s.filterGap(q, w, table)
	return table
}

// rangeSelect selects cols of table's rows whose day (or month, when col
// is "month") lies in r and that match f's dimensions, as (day, site,
// cols…). One range per SELECT: SQLite would not use the key for ranges
// joined by OR.
func rangeSelect(w *where, f StatsFilter, col, table, cols string, r [2]string) string {
	sub := &where{args: w.args}
	sub.add(col + " >= " + sub.arg(r[0]))
	sub.add(col + " < " + sub.arg(r[1]))
	sub.dims(f, table)
	w.args = sub.args
	day := "day"
	if col == "month" {
		day = "month || '-01'"
	}
	return "SELECT " + day + " AS day, site, " + cols + " FROM " + table + " WHERE " + sub.sql()
}

// monthSplit divides the days q reads into whole months ('YYYY-MM' ranges,
// end exclusive) and the day ranges left at their edges. Months never
// straddle the start of the current period or the gap before it. No months
// come back when the days are not all well formed.
func (q StatsQuery) monthSplit() (days, months [][2]string) {
	f := q.Filter
	segs := [][2]string{{f.From, f.To}}
	if c := q.CurrentFrom; c != "" {
		p := c
		if q.PreviousTo != "" && q.PreviousTo < c {
			p = q.PreviousTo
		}
		segs = [][2]string{{f.From, min(f.To, p)}, {max(f.From, c), f.To}}
	}
	for _, sg := range segs {
		a, b := sg[0], sg[1]
		if a >= b {
			continue
		}
		ta, err1 := time.Parse(time.DateOnly, a)
		tb, err2 := time.Parse(time.DateOnly, b)
		if err1 != nil || err2 != nil {
			return nil, nil
		}
		m1 := time.Date(ta.Year(), ta.Month(), 1, 0, 0, 0, 0, time.UTC)
		if m1.Before(ta) {
			m1 = m1.AddDate(0, 1, 0)
		}
		m2 := time.Date(tb.Year(), tb.Month(), 1, 0, 0, 0, 0, time.UTC)
		if !m1.Before(m2) {
			days = append(days, [2]string{a, b})
			continue
		}
		if d := m1.Format(time.DateOnly); a < d {
			days = append(days, [2]string{a, d})
		}
		months = append(months, [2]string{m1.Format("2006-01"), m2.Format("2006-01")})
		if d := m2.Format(time.DateOnly); d < b {
			days = append(days, [2]string{d, b})
		}
	}
	return days, months
}
