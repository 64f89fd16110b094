package api

import (
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// dashFilter is the filter bar of every dashboard page and stats endpoint.
// It lives in the URL so that a link shows a colleague the same numbers.
type dashFilter struct {
	Period     string `json:"period"`
	From       string `json:"from,omitempty"` // custom period, inclusive local dates
	To         string `json:"to,omitempty"`
	Site       string `json:"site,omitempty"`
	Department string `json:"department,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Survey     string `json:"survey,omitempty"`
	Channel    string `json:"channel,omitempty"`
	Gran       string `json:"granularity,omitempty"`

	// Resolved from the above.
	P     stats.Period      `json:"-"`
	G     stats.Granularity `json:"-"`
	Loc   *time.Location    `json:"-"`
	Sites []string          `json:"-"` // sites the numbers cover; nil = every site
	// Visible are the sites the caller may choose from (for the form).
	Visible []storage.Site `json:"-"`
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

var channels = []string{survey.ChannelLink, survey.ChannelKiosk, survey.ChannelInvite, survey.ChannelSuggestion}

// maxDayBuckets bounds a daily chart; longer ranges need weeks or months.
const maxDayBuckets = 400

// parseDashFilter reads and checks the filter query parameters, and limits
// the sites to those the caller may see: naming another site is refused.
func (s *Server) parseDashFilter(c *fiber.Ctx) (*dashFilter, error) {
	f := &dashFilter{Period: c.Query("period", string(stats.Last30Days)), From: c.Query("from"), To: c.Query("to"),
		Site: c.Query("site"), Department: c.Query("department"), Provider: c.Query("provider"),
		Survey: c.Query("survey"), Channel: c.Query("channel"), Gran: c.Query("granularity")}
	bad := map[string]string{}
	for name, v := range map[string]string{"site": f.Site, "department": f.Department, "provider": f.Provider, "survey": f.Survey} {
		if v != "" && !slugPattern.MatchString(v) {
			bad[name] = "is not a valid name"
		}
	}
	if f.Channel != "" && !slices.Contains(channels, f.Channel) {
		bad["channel"] = "must be link, kiosk, invite or suggestion"
	}
	var from, to time.Time
	if f.Period == string(stats.Custom) {
		var err error
		if from, err = time.Parse(time.DateOnly, f.From); err != nil {
			bad["from"] = "must be a date like 2026-03-01"
		}
		if to, err = time.Parse(time.DateOnly, f.To); err != nil {
			bad["to"] = "must be a date like 2026-03-31"
		}
	} else {
		f.From, f.To = "", ""
	}
	if len(bad) > 0 {
		return nil, errInvalid(bad)
	}
	p := principal(c)
	ctx := c.UserContext()
	if f.Site != "" && !p.CanSeeSite(f.Site) {
		return nil, errStatus(fiber.StatusForbidden, "you may not see this site's feedback")
	}
	var only []string
	if p.Role == storage.RoleManager {
		only = p.Sites
		f.Sites = slices.Clone(p.Sites)
	}
	visible, err := s.store.Sites(ctx, only)
	if err != nil {
		return nil, err
	}
	f.Visible = visible
	f.Loc = time.UTC
	if len(visible) > 0 {
		f.Loc = visible[0].Location()
	}
	if f.Site != "" {
		i := slices.IndexFunc(visible, func(st storage.Site) bool { return st.Slug == f.Site })
		if i < 0 {
			return nil, errInvalid(map[string]string{"site": "unknown site"})
		}
		f.Sites, f.Loc = []string{f.Site}, visible[i].Location()
	}
	f.P, err = stats.ResolvePeriod(stats.Preset(f.Period), s.now(), f.Loc, from, to)
	if err != nil {
		field := "period"
		if f.Period == string(stats.Custom) {
			field = "to"
		}
		return nil, errInvalid(map[string]string{field: "must be 7d, 30d, 90d, 12m, or custom with from on or before to"})
	}
	if f.P.Days() > 3*366 {
		return nil, errInvalid(map[string]string{"from": "a custom period may span three years at most"})
	}
	f.G = f.P.Granularity()
	if f.Gran != "" {
		g, err := stats.ParseGranularity(f.Gran)
		if err != nil {
			return nil, errInvalid(map[string]string{"granularity": "must be day, week or month"})
		}
		f.G = g
	}
	if f.G == stats.Day && f.P.Days() > maxDayBuckets {
		f.G = stats.Week
	}
	return f, nil
}

// storage returns the filter for the current period, or, with prev, for the
// previous and the current period together.
func (f *dashFilter) storage(prev bool) storage.StatsFilter {
	from := f.P.From
	if prev {
		from = f.P.PrevFrom
	}
	return storage.StatsFilter{From: day(from), To: day(f.P.To), Sites: f.Sites, Department: f.Department,
		Provider: f.Provider, Survey: f.Survey, Channel: f.Channel}
}

// compare is a query over both periods, marking the current one.
func (f *dashFilter) compare(bucket stats.Granularity, bySite bool) storage.StatsQuery {
	return storage.StatsQuery{Filter: f.storage(true), CurrentFrom: day(f.P.From), PreviousTo: day(f.P.PrevTo),
		Bucket: bucket, BySite: bySite}
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// values is the filter as query parameters, without empty ones.
func (f *dashFilter) values() url.Values {
	v := url.Values{}
	set := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	set("period", f.Period)
	set("from", f.From)
	set("to", f.To)
	set("site", f.Site)
	set("department", f.Department)
	set("provider", f.Provider)
	set("survey", f.Survey)
	set("channel", f.Channel)
	set("granularity", f.Gran)
	return v
}

// URL links to a dashboard page with this filter and extra parameters
// (pairs of name, value; an empty value removes the parameter).
func (f *dashFilter) URL(path string, kv ...string) string {
	v := f.values()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Presets lists the period choices for the form.
func (f *dashFilter) Presets() []stats.Preset { return stats.PeriodPresets }

// Channels lists the channel choices for the form.
func (f *dashFilter) Channels() []string { return channels }

// Surveys lists the survey choices for the form.
func (f *dashFilter) Surveys() []string { return []string{"fft", "nps", "suggestion"} }

// Departments lists the departments of the visible sites (or the chosen
// one), without repeats, for the form.
func (f *dashFilter) Departments() []storage.Department {
	var out []storage.Department
	seen := map[string]bool{}
	for _, st := range f.Visible {
		if f.Site != "" && st.Slug != f.Site {
			continue
		}
		for _, d := range st.Departments {
			if !seen[d.Slug] {
				seen[d.Slug] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// Providers is Departments for providers.
func (f *dashFilter) Providers() []storage.Provider {
	var out []storage.Provider
	seen := map[string]bool{}
	for _, st := range f.Visible {
		if f.Site != "" && st.Slug != f.Site {
			continue
		}
		for _, p := range st.Providers {
			if !seen[p.Slug] {
				seen[p.Slug] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// SiteName returns a site's display name (the slug when unknown).
func (f *dashFilter) SiteName(slug string) string {
	for _, st := range f.Visible {
		if st.Slug == slug {
			return st.Name
		}
	}
	return slug
}

// PeriodText describes the period for headings: "1 Mar 2026 – 30 Mar 2026".
func (f *dashFilter) PeriodText() string {
	return f.P.From.Format("2 Jan 2006") + " – " + f.P.To.AddDate(0, 0, -1).Format("2 Jan 2006")
}

// PrevText describes the comparison period.
func (f *dashFilter) PrevText() string {
	return f.P.PrevFrom.Format("2 Jan 2006") + " – " + f.P.PrevTo.AddDate(0, 0, -1).Format("2 Jan 2006")
}

// Grans lists the granularity choices for the form.
func (f *dashFilter) Grans() []string { return []string{"day", "week", "month"} }
