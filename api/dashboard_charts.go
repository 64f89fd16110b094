package api

import (
	"encoding/json"
	"html/template"
	"sort"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/charts"
	"github.com/carevoice/carevoice/stats"
)

// dashChart is a rendered chart with what a click on a point opens: the
// comments of that bucket (Drill + bucket key), narrowed to the clicked
// series' theme when Series maps series names to theme ids.
type dashChart struct {
	HTML     template.HTML
	ID       string
	Drill    string
	Series   string // JSON object: series name → theme id
	Polarity string
}

var (
	zero     = charts.F(0)
	hundred  = charts.F(100)
	minus100 = charts.F(-100)
)

func countPoint(label string, n int) charts.Point {
	v := float64(n)
	return charts.Point{Label: label, Value: &v}
}

// trendCharts draws volume, FFT, NPS and the sentiment mix by bucket.
func (s *Server) trendCharts(nonce string, f *dashFilter, t *trend) ([]dashChart, error) {
	m := s.cfg.MinCell
	cat := map[stats.Granularity]string{stats.Day: "Day", stats.Week: "Week starting", stats.Month: "Month"}[t.Granularity]
	var resp, comm, pos, neg, nps charts.Series
	resp.Name, comm.Name, pos.Name, neg.Name, nps.Name = "Responses", "Comments", "% positive", "% negative", "NPS"
	mix := make([]charts.Series, len(sentimentOrder))
	for i, k := range sentimentOrder {
		mix[i] = charts.Series{Name: k, Color: charts.SentimentColors[k]}
	}
	for _, p := range t.Points {
		resp.Points = append(resp.Points, countPoint(p.Key, p.Responses))
		comm.Points = append(comm.Points, countPoint(p.Key, p.Comments))
		pos.Points = append(pos.Points, charts.RatePoint(p.Key, p.FFTPositive))
		neg.Points = append(neg.Points, charts.RatePoint(p.Key, p.FFTNegative))
		nps.Points = append(nps.Points, charts.RatePoint(p.Key, p.NPS))
		for i, k := range sentimentOrder {
			mix[i].Points = append(mix[i].Points, charts.RatePoint(p.Key, p.Sentiment[k]))
		}
	}
	drill := f.URL("/dashboard/comments", "granularity", string(t.Granularity), "bucket", "")
	specs := []struct {
		o      charts.Options
		stack  bool
		series []charts.Series
	}{
		{charts.Options{ID: "trend-volume", Title: "Responses and comments", Category: cat, YName: "count", MinCell: m, YMin: zero}, false, []charts.Series{resp, comm}},
		{charts.Options{ID: "trend-fft", Title: "Friends and Family Test", Category: cat, YName: "% of answers", Unit: " %", Decimals: 1, MinCell: m, YMin: zero, YMax: hundred}, false, []charts.Series{pos, neg}},
		{charts.Options{ID: "trend-nps", Title: "Net Promoter Score", Category: cat, YName: "NPS", Decimals: 1, MinCell: m, YMin: minus100, YMax: hundred}, false, []charts.Series{nps}},
		{charts.Options{ID: "trend-sentiment", Title: "Sentiment of comments", Category: cat, YName: "% of comments", Unit: " %", Decimals: 1, MinCell: m, YMin: zero, YMax: hundred}, true, mix},
	}
	var out []dashChart
	for _, sp := range specs {
		sp.o.Nonce = nonce
		var h template.HTML
		var err error
		if sp.stack {
			h, err = charts.StackedArea(sp.o, sp.series...)
		} else {
			h, err = charts.Line(sp.o, sp.series...)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, dashChart{HTML: h, ID: sp.o.ID, Drill: drill})
	}
	return out, nil
}

// topThemes returns up to k theme ids with the most mentions of a polarity
// in the period, most first, so that a chart keeps to readable lines.
func topThemes(r *themesReport, pol string, k int) []string {
	type tc struct {
		id string
		v  float64
	}
	var xs []tc
	for _, t := range r.Themes {
		rate := t.Complaints
		if pol == praise {
			rate = t.Praise
		}
		if rate.Value != nil && *rate.Value > 0 {
			xs = append(xs, tc{t.ID, *rate.Value})
		}
	}
	sort.SliceStable(xs, func(i, j int) bool { return xs[i].v > xs[j].v })
	var out []string
	for i := 0; i < len(xs) && i < k; i++ {
		out = append(out, xs[i].id)
	}
	return out
}

// themeCharts draws the theme totals, the top themes over time and the
// theme × site heatmap.
func (s *Server) themeCharts(nonce string, f *dashFilter, r *themesReport) ([]dashChart, error) {
	m := s.cfg.MinCell
	cat := map[stats.Granularity]string{stats.Day: "Day", stats.Week: "Week starting", stats.Month: "Month"}[r.Granularity]
	var out []dashChart

	comp, prs := charts.Series{Name: "Complaints", Color: charts.SentimentColors["negative"]}, charts.Series{Name: "Praise", Color: charts.SentimentColors["positive"]}
	for _, t := range r.Themes {
		comp.Points = append(comp.Points, charts.RatePoint(t.Label, t.Complaints))
		prs.Points = append(prs.Points, charts.RatePoint(t.Label, t.Praise))
	}
	h, err := charts.Bar(charts.Options{ID: "themes-totals", Nonce: nonce, Title: "Complaints and praise by theme (% of comments)",
		Category: "Theme", YName: "% of comments", Unit: " %", Decimals: 1, MinCell: m, YMin: zero, Horizontal: true, Height: 480}, comp, prs)
	if err != nil {
		return nil, err
	}
	out = append(out, dashChart{HTML: h, ID: "themes-totals"})

	for _, pol := range []string{complaint, praise} {
		ids := topThemes(r, pol, 5)
		names := map[string]string{}
		var series []charts.Series
		for _, id := range ids {
			sr := charts.Series{Name: themeLabel(id)}
			names[sr.Name] = id
			for _, b := range r.Series {
				rate := b.Complaints[id]
				if pol == praise {
					rate = b.Praise[id]
				}
				sr.Points = append(sr.Points, charts.RatePoint(b.Key, rate))
			}
			series = append(series, sr)
		}
		if len(series) == 0 {
			continue
		}
		id, title := "themes-complaints", "Complaints over time: the five most frequent themes (% of comments)"
		if pol == praise {
			id, title = "themes-praise", "Praise over time: the five most frequent themes (% of comments)"
		}
		h, err := charts.Line(charts.Options{ID: id, Nonce: nonce, Title: title, Category: cat, YName: "% of comments",
			Unit: " %", Decimals: 1, MinCell: m, YMin: zero}, series...)
		if err != nil {
			return nil, err
		}
		js, _ := json.Marshal(names)
		out = append(out, dashChart{HTML: h, ID: id, Drill: f.URL("/dashboard/comments", "granularity", string(r.Granularity), "bucket", ""),
			Series: string(js), Polarity: pol})
	}

	if len(r.Sites) > 0 {
		var rows []charts.Series
		for _, id := range analytics.ThemeIDs {
			sr := charts.Series{Name: themeLabel(id)}
			for _, st := range r.Sites {
				sr.Points = append(sr.Points, charts.RatePoint(st.Name, st.Complaints[id]))
			}
			rows = append(rows, sr)
		}
		h, err := charts.Heatmap(charts.Options{ID: "themes-heatmap", Nonce: nonce, Title: "Complaints by theme and site (% of the site's comments)",
			Category: "Theme", YName: "% of comments", Unit: " %", Decimals: 1, MinCell: m, Height: 520}, rows...)
		if err != nil {
			return nil, err
		}
		out = append(out, dashChart{HTML: h, ID: "themes-heatmap"})
	}
	return out, nil
}
