package storage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// statsSites are two sites in different zones, so that local days differ
// from UTC days.
var statsSites = []storage.Site{
	{Slug: "east", Name: "East", TimeZone: "America/New_York",
		Departments: []storage.Department{{Slug: "a", Name: "A"}, {Slug: "b", Name: "B"}}},
	{Slug: "west", Name: "West", TimeZone: "Asia/Tokyo",
		Departments: []storage.Department{{Slug: "a", Name: "A"}}},
}

var sentiments = []string{"positive", "neutral", "negative", "mixed"}

// randomResponse makes a response with random dimensions, ratings and
// analysed comments, dated within 120 days before now.
func randomResponse(rng *rand.Rand, i int, now time.Time) *storage.NewResponse {
	site := statsSites[rng.IntN(len(statsSites))]
	at := now.Add(-time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
	r := &storage.NewResponse{
		ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), SurveyVersion: 1, Site: site.Slug,
		Channel: []string{"link", "kiosk"}[rng.IntN(2)], Lang: "en", SubmittedAt: at,
		LocalDay: at.In(site.Location()).Format(time.DateOnly), Fingerprint: fmt.Sprint("fp", i),
	}
	if rng.IntN(4) > 0 {
		r.Department = site.Departments[rng.IntN(len(site.Departments))].Slug
	}
	if rng.IntN(3) > 0 {
		r.Provider = []string{"p1", "p2"}[rng.IntN(2)]
	}
	if rng.IntN(2) == 0 {
		r.Survey = "fft"
		v := rng.IntN(6)
		r.FFT = &v
		r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "rating5", Num: &v})
	} else {
		r.Survey = "nps"
		v := rng.IntN(11)
		r.NPS = &v
		r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "nps", Num: &v})
	}
	for q := 2; q <= 3; q++ {
		if rng.IntN(2) == 0 {
			continue
		}
		text := fmt.Sprintf("comment %d/%d", i, q)
		res := &analytics.Result{Sentiment: sentiments[rng.IntN(4)], Version: "t", Themes: []analytics.ThemeHit{}}
		for _, th := range analytics.ThemeIDs[:4] {
			if rng.IntN(3) == 0 {
				res.Themes = append(res.Themes, analytics.ThemeHit{ID: th, Polarity: []string{"positive", "negative"}[rng.IntN(2)]})
			}
		}
		r.Answers = append(r.Answers, storage.NewAnswer{Question: fmt.Sprint("q", q), Position: q, Type: "text", Intent: "open",
			Text: &text, Analysis: res})
	}
	return r
}

// direct computes a StatsQuery's answer straight from the raw responses, the
// slow way the rollups exist to avoid.
func direct(rs []*storage.NewResponse, q storage.StatsQuery) ([]storage.CountRow, []storage.ThemeRow) {
	type key struct {
		cur          bool
		bucket, site string
	}
	counts := map[key]*storage.CountRow{}
	themes := map[storage.ThemeRow]int{}
	f := q.Filter
	for _, r := range rs {
		if q.PreviousTo != "" && r.LocalDay >= q.PreviousTo && r.LocalDay < q.CurrentFrom {
			continue
		}
		if r.LocalDay < f.From || r.LocalDay >= f.To || f.Sites != nil && !contains(f.Sites, r.Site) ||
			f.Department != "" && r.Department != f.Department || f.Survey != "" && r.Survey != f.Survey ||
			f.Channel != "" && r.Channel != f.Channel || f.Provider != "" && r.Provider != f.Provider {
			continue
		}
		k := key{cur: q.CurrentFrom == "" || r.LocalDay >= q.CurrentFrom}
		if q.Bucket != "" {
			day, _ := time.Parse(time.DateOnly, r.LocalDay)
			k.bucket = stats.BucketKey(day, q.Bucket, time.UTC)
		}
		if q.BySite {
			k.site = r.Site
		}
		c := counts[k]
		if c == nil {
			c = &storage.CountRow{Current: k.cur, Bucket: k.bucket, Site: k.site}
			counts[k] = c
		}
		c.Responses++
		if r.FFT != nil {
			c.FFT.AddAnswer(*r.FFT)
		}
		if r.NPS != nil {
			c.NPS.AddScore(*r.NPS)
		}
		for _, a := range r.Answers {
			if a.Analysis == nil {
				continue
			}
			c.Comments++
			switch a.Analysis.Sentiment {
			case "positive":
				c.Positive++
			case "negative":
				c.Negative++
			case "mixed":
				c.Mixed++
			default:
				c.Neutral++
			}
			for _, h := range a.Analysis.Themes {
				themes[storage.ThemeRow{Current: k.cur, Bucket: k.bucket, Site: k.site, Theme: h.ID, Polarity: h.Polarity}]++
			}
		}
	}
	var cs []storage.CountRow
	for _, c := range counts {
		cs = append(cs, *c)
	}
	var ts []storage.ThemeRow
	for t, n := range themes {
		t.N = n
		ts = append(ts, t)
	}
	sortRows(cs, ts)
	return cs, ts
}

func sortRows(cs []storage.CountRow, ts []storage.ThemeRow) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		return fmt.Sprint(a.Current, a.Bucket, a.Site) < fmt.Sprint(b.Current, b.Bucket, b.Site)
	})
	sort.Slice(ts, func(i, j int) bool {
		a, b := ts[i], ts[j]
		return fmt.Sprint(a.Current, a.Bucket, a.Site, a.Theme, a.Polarity) < fmt.Sprint(b.Current, b.Bucket, b.Site, b.Theme, b.Polarity)
	})
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestStatsRollupMatchesRaw is the property: for random responses stored
// through SubmitResponse and random filters, the rollup aggregation equals
// a direct count over the raw responses.
func TestStatsRollupMatchesRaw(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		for _, site := range statsSites {
			if err := s.UpsertSite(ctx, site); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(7, 11))
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		var rs []*storage.NewResponse
		done := make(chan error)
		const n = 600
		for i := 0; i < n; i++ {
			r := randomResponse(rng, i, now)
			rs = append(rs, r)
			go func() { _, err := s.SubmitResponse(ctx, r); done <- err }()
		}
		for i := 0; i < n; i++ {
			if err := <-done; err != nil {
				t.Fatalf("submit: %v", err)
			}
		}
		days := func(back int) string { return now.AddDate(0, 0, -back).Format(time.DateOnly) }
		for trial := 0; trial < 60; trial++ {
			span := 7 + rng.IntN(60)
			end := rng.IntN(40)
			q := storage.StatsQuery{
				Filter: storage.StatsFilter{From: days(end + 2*span), To: days(end - 1)},
				Bucket: []stats.Granularity{"", stats.Day, stats.Week, stats.Month}[rng.IntN(4)],
				BySite: rng.IntN(2) == 0,
			}
			switch rng.IntN(3) {
			case 0:
				q.CurrentFrom = days(end + span)
			case 1:
				q.CurrentFrom, q.PreviousTo = days(end+span), days(end+span+1+rng.IntN(span))
			}
			// Every rollup the filter can pick: site level, department
			// level, per dimension (alone or with sites) and fine.
			switch rng.IntN(15) {
			case 0:
				q.Filter.Sites = []string{"east"}
			case 1:
				q.Filter.Sites = []string{"east", "west"}
			case 2:
				q.Filter.Department = "a"
			case 3:
				q.Filter.Survey, q.Filter.Channel = "fft", "kiosk"
			case 4:
				q.Filter.Survey = "nps"
			case 5:
				q.Filter.Channel = "link"
			case 6:
				q.Filter.Provider = "p1"
			case 7:
				q.Filter.Sites, q.Filter.Provider = []string{"west"}, "p2"
			case 8:
				q.Filter.Department, q.Filter.Channel = "a", "kiosk"
			case 9:
				q.Filter.Sites, q.Filter.Survey = []string{}, "fft"
			case 10:
				q.Filter.Provider, q.Filter.Survey = "p1", "nps"
			case 11:
				q.Filter.Department, q.Filter.Survey, q.Filter.Channel = "b", "fft", "kiosk"
			case 12:
				q.Filter.Sites, q.Filter.Department, q.Filter.Provider = []string{"west"}, "a", "p1"
			case 13:
				q.Filter.Department, q.Filter.Survey = "a", "nps"
			}
			t.Run(fmt.Sprintf("trial%d", trial), func(t *testing.T) {
				gotC, err := s.StatsCounts(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				gotT, err := s.StatsThemes(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				sortRows(gotC, gotT)
				wantC, wantT := direct(rs, q)
				if !reflect.DeepEqual(gotC, wantC) {
					t.Errorf("query %+v:\ncounts got  %+v\n       want %+v", q, gotC, wantC)
				}
				if !reflect.DeepEqual(gotT, wantT) {
					t.Errorf("query %+v:\nthemes got  %d rows %+v\n       want %d rows %+v", q, len(gotT), gotT, len(wantT), wantT)
				}
			})
		}
	})
}

// TestStatsCommentsMatchRaw checks the comment explorer against the raw
// responses: filters, newest-first order and cursor pagination.
func TestStatsCommentsMatchRaw(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		for _, site := range statsSites {
			if err := s.UpsertSite(ctx, site); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(3, 5))
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		var rs []*storage.NewResponse
		for i := 0; i < 150; i++ {
			r := randomResponse(rng, i, now)
			if i%10 == 5 {
				// Two responses in the same millisecond: the cursor must not skip either.
				r.SubmittedAt = rs[len(rs)-1].SubmittedAt
				r.Site, r.LocalDay, r.Department = rs[len(rs)-1].Site, rs[len(rs)-1].LocalDay, ""
			}
			if i%7 == 0 {
				for j := range r.Answers {
					if r.Answers[j].Text != nil {
						text := *r.Answers[j].Text + " 100%_Wait"
						r.Answers[j].Text = &text
					}
				}
			}
			rs = append(rs, r)
			if _, err := s.SubmitResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		from, to := now.AddDate(0, 0, -90).Format(time.DateOnly), now.Format(time.DateOnly)
		cases := []storage.CommentQuery{
			{},
			{Theme: analytics.ThemeIDs[0]},
			{Theme: analytics.ThemeIDs[1], Polarity: "negative", Sentiment: "negative"},
			{Search: "100%_w"},
			{Filter: storage.StatsFilter{Sites: []string{"west"}}},
			{Filter: storage.StatsFilter{Sites: []string{}}},
		}
		for i, q := range cases {
			q.Filter.From, q.Filter.To = from, to
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				var want []string
				type item struct {
					at   int64
					seq  int
					q    string
					text string
				}
				var items []item
				for seq, r := range rs {
					if r.LocalDay < from || r.LocalDay >= to || q.Filter.Sites != nil && !contains(q.Filter.Sites, r.Site) {
						continue
					}
					for _, a := range r.Answers {
						if a.Analysis == nil || q.Sentiment != "" && a.Analysis.Sentiment != q.Sentiment ||
							q.Search != "" && !strings.Contains(strings.ToLower(*a.Text), strings.ToLower(q.Search)) {
							continue
						}
						if q.Theme != "" && !slicesHas(a.Analysis.Themes, q.Theme, q.Polarity) {
							continue
						}
						items = append(items, item{r.SubmittedAt.UnixMilli(), seq, a.Question, *a.Text})
					}
				}
				sort.Slice(items, func(i, j int) bool {
					a, b := items[i], items[j]
					if a.at != b.at {
						return a.at > b.at
					}
					if a.seq != b.seq {
						return a.seq > b.seq
					}
					return a.q > b.q
				})
				for _, it := range items {
					want = append(want, it.text)
				}
				var got []string
				q.Limit = 7
				for pages := 0; pages < 100; pages++ {
					cs, more, err := s.Comments(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, c := range cs {
						got = append(got, c.Text)
					}
					if !more {
						break
					}
					cur := cs[len(cs)-1].Cursor()
					q.After = &cur
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %d comments %q\nwant %d %q", len(got), got, len(want), want)
				}
				if i == 0 && len(want) < 20 {
					t.Errorf("only %d comments in the unfiltered case; the test data is too thin", len(want))
				}
			})
		}
	})
}

func slicesHas(hs []analytics.ThemeHit, id, pol string) bool {
	for _, h := range hs {
		if h.ID == id && (pol == "" || h.Polarity == pol) {
			return true
		}
	}
	return false
}
