package api

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed templates/*.html
var templateFS embed.FS

// Page is what every template receives.
type Page struct {
	Lang      string
	Title     string
	Nonce     string
	Principal *Principal
	CSRF      string
	Nav       string // current staff section, for aria-current
	Kiosk     bool
	Langs     []LangLink
	Data      any
	s         *Server
}

// LangLink is one entry of the language switcher.
type LangLink struct {
	Code, Name, URL string
	Current         bool
}

// T translates a patient-facing string.
func (p *Page) T(key string) string { return p.s.i18n.T(p.Lang, key) }

// Asset returns the cache-busting URL of a static file.
func (p *Page) Asset(path string) string { return p.s.assets.URL(path) }

func (s *Server) loadTemplates() error {
	funcs := template.FuncMap{
		"in": func(t map[string]string, lang string) string { return textIn(t, lang) },
		"seq": func(a, b int) []int {
			var out []int
			for i := a; i <= b; i++ {
				out = append(out, i)
			}
			return out
		},
		"itoa": func(i int) string { return fmt.Sprint(i) },
		"has": func(list []string, v string) bool {
			for _, x := range list {
				if x == v {
					return true
				}
			}
			return false
		},
	}
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		return err
	}
	s.tmpl = map[string]*template.Template{}
	return fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "layout.html") || strings.HasPrefix(d.Name(), "_") {
			return err
		}
		body, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		t := template.New("layout").Funcs(funcs)
		if _, err := t.Parse(string(layout)); err != nil {
			return fmt.Errorf("api: template layout: %w", err)
		}
		// Partials (files starting with _) are shared by every page.
		partials, _ := fs.Glob(templateFS, "templates/_*.html")
		for _, pp := range partials {
			b, _ := templateFS.ReadFile(pp)
			if _, err := t.Parse(string(b)); err != nil {
				return fmt.Errorf("api: template %s: %w", pp, err)
			}
		}
		if _, err := t.Parse(string(body)); err != nil {
			return fmt.Errorf("api: template %s: %w", p, err)
		}
		s.tmpl[strings.TrimSuffix(d.Name(), ".html")] = t
		return nil
	})
}

func textIn(t map[string]string, lang string) string {
	if v := t[lang]; v != "" {
		return v
	}
	return t["en"]
}

// page builds the template data for a request.
func (s *Server) page(c *fiber.Ctx, lang, title string, data any) *Page {
	p := &Page{Lang: lang, Title: title, Nonce: nonce(c), Principal: principal(c), Data: data, s: s}
	if p.Principal.Kind == "user" {
		p.CSRF = s.csrfToken(p.Principal)
	}
	for _, l := range s.i18n.Languages() {
		q := url.Values{}
		for k, v := range c.Queries() {
			q.Set(k, v)
		}
		q.Set("lang", l)
		p.Langs = append(p.Langs, LangLink{Code: l, Name: s.i18n.Name(l), URL: c.Path() + "?" + q.Encode(), Current: l == lang})
	}
	return p
}

// render writes a page with the given status.
func (s *Server) render(c *fiber.Ctx, status int, name string, p *Page) error {
	t, ok := s.tmpl[name]
	if !ok {
		return fmt.Errorf("api: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("api: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// renderError shows a friendly error page.
func (s *Server) renderError(c *fiber.Ctx, e *Error) error {
	lang := s.i18n.Negotiate(c.Query("lang"), c.Get(fiber.HeaderAcceptLanguage))
	msg := e.Message
	switch e.Status {
	case fiber.StatusNotFound:
		msg = s.i18n.T(lang, "error.notfound")
	case fiber.StatusServiceUnavailable:
		msg = s.i18n.T(lang, "error.busy")
	case fiber.StatusTooManyRequests:
		msg = s.i18n.T(lang, "error.too_many")
	case fiber.StatusInternalServerError:
		msg = s.i18n.T(lang, "error.generic")
	}
	c.Set("Cache-Control", "no-store")
	return s.render(c, e.Status, "error", s.page(c, lang, s.i18n.T(lang, "error.title"), msg))
}
