package api

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
)

// themeLabels are SPEC's display names of the fixed themes.
var themeLabels = map[string]string{
	"wait_times": "Wait times", "ignored": "Ignored", "dismissed": "Dismissed", "staff_attitude": "Staff attitude",
	"communication": "Communication", "access": "Access and scheduling", "environment": "Environment and comfort",
	"clinical_care": "Clinical care", "follow_up": "Follow-up", "billing": "Billing and cost", "privacy": "Privacy and dignity",
}

func themeLabel(id string) string {
	if l, ok := themeLabels[id]; ok {
		return l
	}
	return id
}

// Polarities as the analyzer writes them: a complaint is a negative
// mention, praise a positive one.
const (
	complaint = "negative"
	praise    = "positive"
)

// countChange is a plain count now and before; counts carry no interval.
type countChange struct {
	Current  int `json:"current"`
	Previous int `json:"previous"`
	Delta    int `json:"delta"`
}

// summary is the overview page and GET /api/v1/stats/summary.
type summary struct {
	Responses        countChange  `json:"responses"`
	Comments         countChange  `json:"comments"`
	FFTPositive      stats.Change `json:"fft_positive"`
	FFTNegative      stats.Change `json:"fft_negative"`
	NPS              stats.Change `json:"nps"`
	NegativeComments stats.Change `json:"negative_comments"`
	// RisingThemes are the (up to) three themes whose share of complaints
	// rose most significantly against the previous period.
	RisingThemes []stats.Mover `json:"rising_themes"`
}

func (s *Server) summary(ctx context.Context, f *dashFilter) (*summary, error) {
	q := f.compare("", false)
	counts, err := s.store.StatsCounts(ctx, q)
	if err != nil {
		return nil, err
	}
	themes, err := s.store.StatsThemes(ctx, q)
	if err != nil {
		return nil, err
	}
	var cur, prev storage.Counts
	for _, r := range counts {
		if r.Current {
			cur = cur.Add(r.Counts)
		} else {
			prev = prev.Add(r.Counts)
		}
	}
	m := s.cfg.MinCell
	out := &summary{
		Responses:        countChange{cur.Responses, prev.Responses, cur.Responses - prev.Responses},
		Comments:         countChange{cur.Comments, prev.Comments, cur.Comments - prev.Comments},
		FFTPositive:      stats.CompareProportions(cur.FFT.Positive(), cur.FFT.Total(), prev.FFT.Positive(), prev.FFT.Total(), m, stats.DefaultAlpha),
		FFTNegative:      stats.CompareProportions(cur.FFT.Negative(), cur.FFT.Total(), prev.FFT.Negative(), prev.FFT.Total(), m, stats.DefaultAlpha),
		NPS:              stats.CompareNPS(cur.NPS, prev.NPS, m, stats.DefaultAlpha),
		NegativeComments: stats.CompareProportions(cur.Negative, cur.Comments, prev.Negative, prev.Comments, m, stats.DefaultAlpha),
	}
	in := map[string]*stats.MoverInput{}
	for _, id := range analytics.ThemeIDs {
		in[id] = &stats.MoverInput{Key: id, Label: themeLabel(id), CurrentN: cur.Comments, PreviousN: prev.Comments}
	}
	for _, r := range themes {
		mi := in[r.Theme]
		if mi == nil || r.Polarity != complaint {
			continue
		}
		if r.Current {
			mi.Current += r.N
		} else {
			mi.Previous += r.N
		}
	}
	out.RisingThemes = stats.TopRising(stats.BiggestMovers(moverList(in), m, stats.DefaultAlpha), 3)
	if out.RisingThemes == nil {
		out.RisingThemes = []stats.Mover{}
	}
	return out, nil
}

func moverList(in map[string]*stats.MoverInput) []stats.MoverInput {
	out := make([]stats.MoverInput, 0, len(in))
	for _, m := range in {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// trendPoint is one bucket of the trends page and GET /api/v1/stats/trend.
// Counts are volumes and always shown; rates are suppressed below MinCell.
type trendPoint struct {
	Key         string                `json:"key"`
	Start       string                `json:"start"`
	End         string                `json:"end"` // exclusive
	Responses   int                   `json:"responses"`
	Comments    int                   `json:"comments"`
	FFTPositive stats.Rate            `json:"fft_positive"`
	FFTNegative stats.Rate            `json:"fft_negative"`
	NPS         stats.Rate            `json:"nps"`
	Sentiment   map[string]stats.Rate `json:"sentiment"`
}

type trend struct {
	Granularity stats.Granularity `json:"granularity"`
	Points      []trendPoint      `json:"points"`
}

// sentimentOrder stacks from good to bad.
var sentimentOrder = []string{"positive", "neutral", "mixed", "negative"}

func (s *Server) trend(ctx context.Context, f *dashFilter) (*trend, error) {
	rows, err := s.store.StatsCounts(ctx, storage.StatsQuery{Filter: f.storage(false), Bucket: f.G})
	if err != nil {
		return nil, err
	}
	by := map[string]storage.Counts{}
	for _, r := range rows {
		by[r.Bucket] = by[r.Bucket].Add(r.Counts)
	}
	m := s.cfg.MinCell
	out := &trend{Granularity: f.G, Points: []trendPoint{}}
	for _, b := range stats.Buckets(f.P.From, f.P.To, f.G, f.Loc) {
		c := by[b.Key]
		p := trendPoint{Key: b.Key, Start: day(b.Start), End: day(b.End), Responses: c.Responses, Comments: c.Comments,
			FFTPositive: c.FFT.PositiveRate(m), FFTNegative: c.FFT.NegativeRate(m), NPS: c.NPS.Rate(m),
			Sentiment: map[string]stats.Rate{
				"positive": stats.Proportion(c.Positive, c.Comments, m),
				"neutral":  stats.Proportion(c.Neutral, c.Comments, m),
				"mixed":    stats.Proportion(c.Mixed, c.Comments, m),
				"negative": stats.Proportion(c.Negative, c.Comments, m),
			}}
		out.Points = append(out.Points, p)
	}
	return out, nil
}

// themeTotal is one theme over the period: the share of comments that
// complain about it or praise it.
type themeTotal struct {
	ID         string     `json:"id"`
	Label      string     `json:"label"`
	Complaints stats.Rate `json:"complaints"` // % of comments; N is the comments
	Praise     stats.Rate `json:"praise"`
	// Counts are left out when the segment is suppressed, since with N they
	// would give the rate away.
	ComplaintCount *int `json:"complaint_count,omitempty"`
	PraiseCount    *int `json:"praise_count,omitempty"`
}

// themeBucket is one theme in one time bucket.
type themeBucket struct {
	Key        string                `json:"key"`
	Comments   int                   `json:"comments"`
	Complaints map[string]stats.Rate `json:"complaints"` // by theme id
	Praise     map[string]stats.Rate `json:"praise"`
}

// themeSite is one cell of the theme × site heatmap.
type themeSite struct {
	Site       string                `json:"site"`
	Name       string                `json:"name"`
	Comments   int                   `json:"comments"`
	Complaints map[string]stats.Rate `json:"complaints"`
}

type themesReport struct {
	Granularity stats.Granularity `json:"granularity"`
	Comments    int               `json:"comments"`
	Themes      []themeTotal      `json:"themes"`
	Series      []themeBucket     `json:"series"`
	Sites       []themeSite       `json:"sites"`
	// Movers are theme × site segments ranked by the two-proportion z of
	// their complaint share, this period against the previous one.
	Movers []stats.Mover `json:"movers"`
}

func (s *Server) themes(ctx context.Context, f *dashFilter) (*themesReport, error) {
	// The series needs buckets of the current period only, summed over the
	// sites; the sites and the movers need both periods but no buckets, so
	// their queries read whole months from the monthly rollups. (One query
	// grouped by period, bucket and site returned ~3 times the series' rows
	// and read the previous year day by day: a year in days took 284 ms
	// SQLite, 621 ms PostgreSQL p95 at 1,000,000 responses.) With weeks the
	// series keeps the sites apart, which costs little (52 buckets), and
	// gives the current period's sites, so that the other queries read the
	// previous period alone. Month buckets come from the monthly rollups
	// anyway, so one query grouped by month serves both. The queries run at
	// once: on an idle server the page then waits for the slowest rather
	// than the sum.
	series := storage.StatsQuery{Filter: f.storage(false), Bucket: f.G, BySite: f.G == stats.Week}
	q := f.compare("", true)
	switch f.G {
	case stats.Month:
		q.Bucket = stats.Month
	case stats.Week:
		q.Filter.To = q.CurrentFrom
	}
	var (
		bcounts, counts []storage.CountRow
		brows, rows     []storage.ThemeRow
		errs            [4]error
		wg              sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); counts, errs[2] = s.store.StatsCounts(ctx, q) }()
	go func() { defer wg.Done(); rows, errs[3] = s.store.StatsThemes(ctx, q) }()
	if q.Bucket == "" {
		wg.Add(2)
		go func() { defer wg.Done(); bcounts, errs[0] = s.store.StatsCounts(ctx, series) }()
		go func() { defer wg.Done(); brows, errs[1] = s.store.StatsThemes(ctx, series) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	switch {
	case q.Bucket != "":
		bcounts, brows = counts, rows
	case series.BySite:
		counts = append(append([]storage.CountRow{}, counts...), bcounts...)
		rows = append(append([]storage.ThemeRow{}, rows...), brows...)
	}
	m := s.cfg.MinCell
	comments := map[string]int{} // by bucket
	siteCur := map[string]int{}  // comments by site, current
	sitePrev := map[string]int{}
	total := 0
	for _, r := range bcounts {
		if r.Current {
			comments[r.Bucket] += r.Comments
		}
	}
	for _, r := range counts {
		if !r.Current {
			sitePrev[r.Site] += r.Comments
			continue
		}
		siteCur[r.Site] += r.Comments
		total += r.Comments
	}
	type tk struct{ theme, pol string }
	perTheme := map[tk]int{}
	perBucket := map[string]map[tk]int{}
	perSite := map[string]map[tk]int{}
	moverIn := map[string]*stats.MoverInput{}
	for _, r := range brows {
		if !r.Current {
			continue
		}
		if perBucket[r.Bucket] == nil {
			perBucket[r.Bucket] = map[tk]int{}
		}
		perBucket[r.Bucket][tk{r.Theme, r.Polarity}] += r.N
	}
	for _, r := range rows {
		k := tk{r.Theme, r.Polarity}
		if r.Polarity == complaint {
			key := r.Theme + "@" + r.Site
			mi := moverIn[key]
			if mi == nil {
				mi = &stats.MoverInput{Key: key, Label: themeLabel(r.Theme) + " — " + f.SiteName(r.Site),
					CurrentN: siteCur[r.Site], PreviousN: sitePrev[r.Site]}
				moverIn[key] = mi
			}
			if r.Current {
				mi.Current += r.N
			} else {
				mi.Previous += r.N
			}
		}
		if !r.Current {
			continue
		}
		perTheme[k] += r.N
		if perSite[r.Site] == nil {
			perSite[r.Site] = map[tk]int{}
		}
		perSite[r.Site][k] += r.N
	}
	out := &themesReport{Granularity: f.G, Comments: total, Themes: []themeTotal{}, Series: []themeBucket{}, Sites: []themeSite{}}
	for _, id := range analytics.ThemeIDs {
		t := themeTotal{ID: id, Label: themeLabel(id),
			Complaints: stats.Proportion(perTheme[tk{id, complaint}], total, m),
			Praise:     stats.Proportion(perTheme[tk{id, praise}], total, m)}
		if !stats.Suppress(total, m) {
			c, p := perTheme[tk{id, complaint}], perTheme[tk{id, praise}]
			t.ComplaintCount, t.PraiseCount = &c, &p
		}
		out.Themes = append(out.Themes, t)
	}
	for _, b := range stats.Buckets(f.P.From, f.P.To, f.G, f.Loc) {
		n := comments[b.Key]
		tb := themeBucket{Key: b.Key, Comments: n, Complaints: map[string]stats.Rate{}, Praise: map[string]stats.Rate{}}
		pb := perBucket[b.Key]
		for _, id := range analytics.ThemeIDs {
			tb.Complaints[id] = stats.Proportion(pb[tk{id, complaint}], n, m)
			tb.Praise[id] = stats.Proportion(pb[tk{id, praise}], n, m)
		}
		out.Series = append(out.Series, tb)
	}
	for _, st := range f.Visible {
		if f.Sites != nil && !containsStr(f.Sites, st.Slug) {
			continue
		}
		n := siteCur[st.Slug]
		ts := themeSite{Site: st.Slug, Name: st.Name, Comments: n, Complaints: map[string]stats.Rate{}}
		for _, id := range analytics.ThemeIDs {
			ts.Complaints[id] = stats.Proportion(perSite[st.Slug][tk{id, complaint}], n, m)
		}
		out.Sites = append(out.Sites, ts)
	}
	// Segments whose site had comments in both periods but no complaint on
	// the theme are movers too (from or to zero).
	for site, n := range siteCur {
		for _, id := range analytics.ThemeIDs {
			key := id + "@" + site
			if moverIn[key] == nil {
				moverIn[key] = &stats.MoverInput{Key: key, Label: themeLabel(id) + " — " + f.SiteName(site), CurrentN: n, PreviousN: sitePrev[site]}
			}
		}
	}
	out.Movers = stats.BiggestMovers(moverList(moverIn), m, stats.DefaultAlpha)
	return out, nil
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// splitMoverKey returns the theme and site of a theme × site mover key.
func splitMoverKey(k string) (theme, site string) {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '@' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// card is one headline number of the overview, formatted for the page.
type card struct {
	Title    string
	Value    string // "72.4 %" or "fewer than 10"
	Interval string // "95% CI 65.2–79.1"
	Delta    string // "+2.1 points", "no comparison: fewer than 10"
	Prev     string
	// Trend is "up" or "down" for a significant change, "" otherwise; Good
	// says whether that direction is good news (for colour and wording).
	Trend string
	Good  bool
	Hint  string
}

func rateCard(title, unit string, ch stats.Change, upIsGood bool, hint string) card {
	c := card{Title: title, Value: ch.Current.String(), Prev: ch.Previous.String(), Hint: hint}
	if ch.Current.Shown() {
		c.Value += unit
		c.Interval = "95% CI " + ch.Current.IntervalString()
	}
	if ch.Previous.Shown() {
		c.Prev += unit
	}
	switch {
	case ch.DeltaPP != nil:
		c.Delta = fmt.Sprintf("%+.1f points", *ch.DeltaPP)
		if ch.Significant {
			c.Trend = "down"
			if *ch.DeltaPP > 0 {
				c.Trend = "up"
			}
			c.Good = (c.Trend == "up") == upIsGood
		} else {
			c.Delta += " (within normal variation)"
		}
	case ch.Note != "":
		c.Delta = "no comparison: " + ch.Note
	}
	return c
}

func summaryCards(s *summary) []card {
	resp := card{Title: "Responses", Value: fmt.Sprint(s.Responses.Current), Prev: fmt.Sprint(s.Responses.Previous),
		Delta: fmt.Sprintf("%+d", s.Responses.Delta), Hint: fmt.Sprintf("%d with comments", s.Comments.Current)}
	return []card{
		resp,
		rateCard("FFT % positive", " %", s.FFTPositive, true, "very good or good, of all answers including don't know"),
		rateCard("FFT % negative", " %", s.FFTNegative, false, "poor or very poor, of all answers including don't know"),
		rateCard("NPS", "", s.NPS, true, "% promoters (9–10) − % detractors (0–6)"),
		rateCard("Negative comments", " %", s.NegativeComments, false, "share of comments whose sentiment is negative"),
	}
}
