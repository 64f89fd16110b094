package api

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
)

// segment is a run of comment text; Mark runs are evidence phrases. The
// template writes each run as escaped text, inside <mark> when marked, so a
// comment can never inject markup.
type segment struct {
	Text string
	Mark bool
}

// highlight splits text around the evidence phrases of its themes. The
// analyzer gives byte offsets; when they don't fit the text (an older
// analysis) the first occurrence of the evidence is used instead.
func highlight(text string, hits []analytics.ThemeHit) []segment {
	type span struct{ a, b int }
	var spans []span
	for _, h := range hits {
		a, b := h.Start, h.End
		ok := a >= 0 && a < b && b <= len(text) && utf8.ValidString(text[a:b]) && text[a:b] == h.Evidence
		if !ok && h.Evidence != "" {
			if i := strings.Index(text, h.Evidence); i >= 0 {
				a, b, ok = i, i+len(h.Evidence), true
			}
		}
		if ok {
			spans = append(spans, span{a, b})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	var out []segment
	pos := 0
	for _, sp := range spans {
		if sp.b <= pos {
			continue
		}
		if sp.a < pos {
			sp.a = pos
		}
		if sp.a > pos {
			out = append(out, segment{Text: text[pos:sp.a]})
		}
		out = append(out, segment{Text: text[sp.a:sp.b], Mark: true})
		pos = sp.b
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}

// commentView is one comment as the explorer shows it.
type commentView struct {
	storage.Comment
	When     string
	SiteName string
	Segments []segment
	Themes   []themeTag
}

type themeTag struct {
	ID, Label, Polarity string
}

// commentFilter adds the explorer's own parameters to the dashboard filter.
type commentFilter struct {
	Theme, Polarity, Sentiment, Search string
	Bucket                             string
	After                              *storage.CommentCursor
}

var polarities = []string{"positive", "negative", "neutral"}

// parseCommentFilter reads theme, polarity, sentiment, q, after and a chart
// bucket; a bucket narrows the period to that day, week or month.
func parseCommentFilter(c *fiber.Ctx, f *dashFilter) (*commentFilter, error) {
	cf := &commentFilter{Theme: c.Query("theme"), Polarity: c.Query("polarity"), Sentiment: c.Query("sentiment"),
		Search: strings.TrimSpace(c.Query("q")), Bucket: c.Query("bucket")}
	bad := map[string]string{}
	if cf.Theme != "" && !slices.Contains(analytics.ThemeIDs, cf.Theme) {
		bad["theme"] = "unknown theme"
	}
	if cf.Polarity != "" && !slices.Contains(polarities, cf.Polarity) {
		bad["polarity"] = "must be positive, negative or neutral"
	}
	if cf.Sentiment != "" && !slices.Contains(sentimentOrder, cf.Sentiment) {
		bad["sentiment"] = "must be positive, neutral, mixed or negative"
	}
	if utf8.RuneCountInString(cf.Search) > 200 {
		bad["q"] = "200 characters at most"
	}
	if a := c.Query("after"); a != "" {
		cur, err := parseCursor(a)
		if err != nil {
			bad["after"] = "is not a valid page cursor"
		}
		cf.After = cur
	}
	if cf.Bucket != "" {
		b, err := stats.ParseBucketKey(cf.Bucket, f.G, f.Loc)
		if err != nil {
			bad["bucket"] = "is not a day, week or month of the chart"
		} else {
			// The bucket becomes a custom period, so that the page's own links
			// and the filter form keep it.
			f.Period, f.From, f.To = string(stats.Custom), day(b.Start), day(b.End.AddDate(0, 0, -1))
			f.P, _ = stats.ResolvePeriod(stats.Custom, time.Now(), f.Loc, b.Start, b.End.AddDate(0, 0, -1))
		}
	}
	if len(bad) > 0 {
		return nil, errInvalid(bad)
	}
	return cf, nil
}

// A cursor is "ms.seq.question": plain, since it only says where a list
// continues and the query it feeds is still limited to the caller's sites.
func formatCursor(c storage.CommentCursor) string {
	return fmt.Sprintf("%d.%d.%s", c.At, c.Seq, c.Question)
}

func parseCursor(s string) (*storage.CommentCursor, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 || len(parts[2]) > 64 {
		return nil, fmt.Errorf("bad cursor")
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad cursor")
	}
	return &storage.CommentCursor{At: at, Seq: seq, Question: parts[2]}, nil
}

func (s *Server) commentViews(f *dashFilter, cs []storage.Comment) []commentView {
	locs := map[string]*time.Location{}
	for _, st := range f.Visible {
		locs[st.Slug] = st.Location()
	}
	out := make([]commentView, 0, len(cs))
	for _, c := range cs {
		loc := locs[c.Site]
		if loc == nil {
			loc = time.UTC
		}
		v := commentView{Comment: c, When: c.SubmittedAt.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), SiteName: f.SiteName(c.Site),
			Segments: highlight(c.Text, c.Themes)}
		for _, h := range c.Themes {
			v.Themes = append(v.Themes, themeTag{h.ID, themeLabel(h.ID), h.Polarity})
		}
		out = append(out, v)
	}
	return out
}
