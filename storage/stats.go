package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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
// the day itself, the Monday of its week, or 'YYYY-MM'.
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
			return "to_char(date_trunc('week', day::date), 'YYYY-MM-DD')", nil
		}
		// 'weekday 0' moves to the coming Sunday (or stays on one); six
		// days back is that week's Monday.
		return "date(day, 'weekday 0', '-6 days')", nil
	}
	return "", fmt.Errorf("storage: unknown bucket %q: %w", g, ErrInvalid)
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

// filterGap adds the filter and leaves out the days between the previous
// and the current period.
func (s *Store) filterGap(q StatsQuery, w *where) {
	w.filter(q.Filter, "day", "")
	if q.PreviousTo != "" && q.CurrentFrom != "" && q.PreviousTo < q.CurrentFrom {
		w.add("(day < " + w.arg(q.PreviousTo) + " OR day >= " + w.arg(q.CurrentFrom) + ")")
	}
}

// tables picks the coarsest rollups (daily counts, themes) that can answer
// q: the site-level ones sum over department, provider, survey and channel,
// the department-level ones over the last three (stats_rollup.go).
func (q StatsQuery) tables() (daily, themes string) {
	f := q.Filter
	switch {
	case f.Provider != "" || f.Survey != "" || f.Channel != "":
		return "rollup_daily", "rollup_themes"
	case f.Department != "":
		return "rollup_dept_daily", "rollup_dept_themes"
	}
	return "rollup_site_daily", "rollup_site_themes"
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
	s.filterGap(q, w)
	query := `SELECT ` + cur + ` AS cur, ` + bucket + ` AS bucket, ` + site + ` AS s,
		SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
		SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors),
		SUM(comments), SUM(positive), SUM(neutral), SUM(negative), SUM(mixed)
		FROM ` + table + ` WHERE ` + w.sql() + ` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`
	rows, err := s.rdb.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: stats counts: %w", err)
	}
	defer rows.Close()
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
		r.Current = c == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: stats counts: %w", err)
	}
	return out, nil
}

// StatsThemes sums rollup_themes by period, bucket, site, theme and
// polarity. Each comment counts once per theme it mentions.
func (s *Store) StatsThemes(ctx context.Context, q StatsQuery) ([]ThemeRow, error) {
	_, table := q.tables()
	w := &where{}
	cur, bucket, site, err := s.groupCols(q, w)
	if err != nil {
		return nil, err
	}
	s.filterGap(q, w)
	query := `SELECT ` + cur + ` AS cur, ` + bucket + ` AS bucket, ` + site + ` AS s, theme, polarity, SUM(n)
		FROM ` + table + ` WHERE ` + w.sql() + ` GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`
	rows, err := s.rdb.QueryContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("storage: stats themes: %w", err)
	}
	defer rows.Close()
	var out []ThemeRow
	for rows.Next() {
		var r ThemeRow
		var c int
		if err := rows.Scan(&c, &r.Bucket, &r.Site, &r.Theme, &r.Polarity, &r.N); err != nil {
			return nil, fmt.Errorf("storage: stats themes: %w", err)
		}
		r.Current = c == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: stats themes: %w", err)
	}
	return out, nil
}
