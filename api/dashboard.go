package api

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
)

// dashboardRoutes registers the manager dashboards and the stats API. Pages
// and endpoints share one filter parser and one set of computations, so the
// API returns exactly the numbers (and the suppression) a page shows.
func (s *Server) dashboardRoutes(app *fiber.App) {
	s.handle(app, "GET", "/dashboard", permStaffPage, s.dashOverview)
	s.handle(app, "GET", "/dashboard/trends", permStaffPage, s.dashTrends)
	s.handle(app, "GET", "/dashboard/themes", permStaffPage, s.dashThemes)
	s.handle(app, "GET", "/dashboard/comments", permStaffPage, s.dashComments)

	v1 := "/api/v1"
	s.handle(app, "GET", v1+"/stats/summary", permStaff, statsAPI(s, s.summary))
	s.handle(app, "GET", v1+"/stats/trend", permStaff, statsAPI(s, s.trend))
	s.handle(app, "GET", v1+"/stats/themes", permStaff, statsAPI(s, s.themes))
}

// dashData is what every dashboard template receives in Page.Data.
type dashData struct {
	F       *dashFilter
	MinCell int
	Path    string // the page, for the filter form

	Summary  *summary
	Cards    []card
	Trend    *trend
	Themes   *themesReport
	Charts   []dashChart
	Comments []commentView
	CF       *commentFilter
	Next     string // next page of comments
	Movers   []moverView
	Rising   []moverView

	ThemeOptions []themeTag
	Sentiments   []string
	Polarities   []string
}

// moverView is a mover with the link to the comments behind it.
type moverView struct {
	stats.Mover
	Up       bool
	Comments string
}

// DeltaText is the change in points, "+3.2 points".
func (m moverView) DeltaText() string {
	if m.Change.DeltaPP == nil {
		return ""
	}
	return fmt.Sprintf("%+.1f points", *m.Change.DeltaPP)
}

func (s *Server) dashPage(c *fiber.Ctx, nav, title string, d *dashData) error {
	d.MinCell, d.Path = s.cfg.MinCell, c.Path()
	d.Sentiments, d.Polarities = sentimentOrder, polarities
	for _, id := range analytics.ThemeIDs {
		d.ThemeOptions = append(d.ThemeOptions, themeTag{ID: id, Label: themeLabel(id)})
	}
	p := s.page(c, "en", title, d)
	p.Nav = nav
	c.Set("Cache-Control", "no-store")
	return s.render(c, fiber.StatusOK, "dashboard_"+nav, p)
}

func (s *Server) dashOverview(c *fiber.Ctx) error {
	f, err := s.parseDashFilter(c)
	if err != nil {
		return err
	}
	sum, err := s.summary(c.UserContext(), f)
	if err != nil {
		return err
	}
	d := &dashData{F: f, Summary: sum, Cards: summaryCards(sum)}
	for _, m := range sum.RisingThemes {
		d.Rising = append(d.Rising, moverView{m, true, f.URL("/dashboard/comments", "theme", m.Key, "polarity", complaint)})
	}
	return s.dashPage(c, "overview", "Overview", d)
}

func (s *Server) dashTrends(c *fiber.Ctx) error {
	f, err := s.parseDashFilter(c)
	if err != nil {
		return err
	}
	t, err := s.trend(c.UserContext(), f)
	if err != nil {
		return err
	}
	cs, err := s.trendCharts(nonce(c), f, t)
	if err != nil {
		return err
	}
	return s.dashPage(c, "trends", "Trends", &dashData{F: f, Trend: t, Charts: cs})
}

// moversShown bounds the movers table; the rest are noise by construction.
const moversShown = 10

func (s *Server) dashThemes(c *fiber.Ctx) error {
	f, err := s.parseDashFilter(c)
	if err != nil {
		return err
	}
	r, err := s.themes(c.UserContext(), f)
	if err != nil {
		return err
	}
	cs, err := s.themeCharts(nonce(c), f, r)
	if err != nil {
		return err
	}
	d := &dashData{F: f, Themes: r, Charts: cs}
	for i, m := range r.Movers {
		if i == moversShown {
			break
		}
		theme, site := splitMoverKey(m.Key)
		d.Movers = append(d.Movers, moverView{m, m.Change.Z > 0,
			f.URL("/dashboard/comments", "theme", theme, "polarity", complaint, "site", site)})
	}
	return s.dashPage(c, "themes", "Themes", d)
}

// commentsPerPage is the explorer's page size.
const commentsPerPage = 25

func (s *Server) dashComments(c *fiber.Ctx) error {
	f, err := s.parseDashFilter(c)
	if err != nil {
		return err
	}
	cf, err := parseCommentFilter(c, f)
	if err != nil {
		return err
	}
	cs, more, err := s.store.Comments(c.UserContext(), storage.CommentQuery{Filter: f.storage(false), Theme: cf.Theme,
		Polarity: cf.Polarity, Sentiment: cf.Sentiment, Search: cf.Search, After: cf.After, Limit: commentsPerPage})
	if err != nil {
		return err
	}
	d := &dashData{F: f, CF: cf, Comments: s.commentViews(f, cs)}
	if more {
		d.Next = f.URL("/dashboard/comments", "theme", cf.Theme, "polarity", cf.Polarity, "sentiment", cf.Sentiment,
			"q", cf.Search, "after", formatCursor(cs[len(cs)-1].Cursor()))
	}
	return s.dashPage(c, "comments", "Comments", d)
}

// statsEnvelope wraps every stats API answer with the filter it used, so
// that a BI tool can label what it plots.
type statsEnvelope struct {
	Filter   *dashFilter `json:"filter"`
	From     string      `json:"from"`
	To       string      `json:"to"` // exclusive
	PrevFrom string      `json:"previous_from"`
	PrevTo   string      `json:"previous_to"`
	MinCell  int         `json:"min_cell"`
	Data     any         `json:"data"`
}

func (s *Server) statsJSON(c *fiber.Ctx, f *dashFilter, data any) error {
	return c.JSON(statsEnvelope{Filter: f, From: day(f.P.From), To: day(f.P.To), PrevFrom: day(f.P.PrevFrom),
		PrevTo: day(f.P.PrevTo), MinCell: s.cfg.MinCell, Data: data})
}

// statsAPI is a stats endpoint: the dashboard's filter, the numbers behind
// one of its pages, and the common envelope.
func statsAPI[T any](s *Server, numbers func(context.Context, *dashFilter) (T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, err := s.parseDashFilter(c)
		if err != nil {
			return err
		}
		data, err := numbers(c.UserContext(), f)
		if err != nil {
			return err
		}
		return s.statsJSON(c, f, data)
	}
}
