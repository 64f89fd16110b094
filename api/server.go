// Package api is CareVoice's HTTP face: the Fiber app, its route table, the
// JSON API, the patient pages and the staff pages, with embedded templates.
package api

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/i18n"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/static"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// Config holds the settings the HTTP layer needs.
type Config struct {
	BaseURL       string        // public URL prefix for invitation and kiosk links; empty = relative
	MinCell       int           // small-number suppression threshold
	KioskIdle     time.Duration // idle reset of kiosk forms
	SessionIdle   time.Duration
	SessionMax    time.Duration
	SecureCookies bool // set behind TLS
	LocalesDir    string
	BodyLimit     int
	RateLimits    RateLimits // public limits (ratelimit.go); zero = none
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For and X-Forwarded-Proto are believed.
	TrustedProxies []string
	// KioskFrameAncestors lets these origins frame kiosk pages ("" = none).
	KioskFrameAncestors string
	// MetricsToken, when set, is the bearer token /metrics asks for (a
	// Prometheus scrape's bearer_token); empty leaves /metrics open.
	MetricsToken string
}

// Deps are the pieces main wires together by hand.
type Deps struct {
	Store    *storage.Store
	Analyzer *analytics.Analyzer
	Keys     *secure.Keyring
	Logger   *slog.Logger
	Config   Config
	Now      func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	store    *storage.Store
	analyzer *analytics.Analyzer
	keys     *secure.Keyring
	log      *slog.Logger
	cfg      Config
	now      func() time.Time
	i18n     *i18n.Bundle
	assets   static.Assets
	tmpl     map[string]*template.Template
	perms    map[string]Permission
	metrics  *metrics
	tokens   tokenCache
	throttle *secure.LoginThrottle
	loop     closeLoop // follow-up cases and alerts (cases.go)
	sec      securityState
	limits   rateLimiters // ratelimit.go

	cacheMu sync.Mutex
	sites   map[string]cached[*storage.Site]
	surveys map[string]cached[*survey.Survey]
}

type cached[T any] struct {
	v  T
	at time.Time
}

// New builds the server and its Fiber app.
func New(d Deps) (*Server, *fiber.App, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	c := d.Config
	if c.MinCell <= 0 {
		c.MinCell = 10
	}
	if c.KioskIdle <= 0 {
		c.KioskIdle = 90 * time.Second
	}
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionMax <= 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = 64 << 10
	}
	b, err := i18n.Load(c.LocalesDir)
	if err != nil {
		return nil, nil, err
	}
	assets, err := static.Load()
	if err != nil {
		return nil, nil, err
	}
	s := &Server{store: d.Store, analyzer: d.Analyzer, keys: d.Keys, log: d.Logger, cfg: c, now: d.Now,
		i18n: b, assets: assets, perms: map[string]Permission{}, metrics: newMetrics(), throttle: newThrottle(d.Store, d.Now),
		sites: map[string]cached[*storage.Site]{}, surveys: map[string]cached[*survey.Survey]{}}
	if err := s.loadTemplates(); err != nil {
		return nil, nil, err
	}
	s.limits = newRateLimiters(c.RateLimits, d.Store, d.Keys)
	if err := s.initSecurity(); err != nil {
		return nil, nil, err
	}
	d.Store.SetBatchObserver(s.metrics.observeBatch)
	app := fiber.New(fiber.Config{
		AppName:               "CareVoice",
		BodyLimit:             c.BodyLimit,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		ReadBufferSize:        16 << 10,
		// Forwarded headers count only from these proxies (see clientAddress).
		EnableTrustedProxyCheck: len(c.TrustedProxies) > 0,
		TrustedProxies:          c.TrustedProxies,
		ProxyHeader:             proxyHeader(c.TrustedProxies),
	})
	s.routes(app)
	return s, app, nil
}

// cacheTTL bounds how stale a site or survey definition may be on one
// instance after another instance changed it.
const cacheTTL = 10 * time.Second

func (s *Server) site(ctx context.Context, slug string) (*storage.Site, error) {
	s.cacheMu.Lock()
	c, ok := s.sites[slug]
	s.cacheMu.Unlock()
	if ok && s.now().Sub(c.at) < cacheTTL {
		return c.v, nil
	}
	site, err := s.store.Site(ctx, slug)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	s.sites[slug] = cached[*storage.Site]{site, s.now()}
	s.cacheMu.Unlock()
	return site, nil
}

func (s *Server) survey(ctx context.Context, slug string) (*survey.Survey, error) {
	s.cacheMu.Lock()
	c, ok := s.surveys[slug]
	s.cacheMu.Unlock()
	if ok && s.now().Sub(c.at) < cacheTTL {
		return c.v, nil
	}
	def, err := s.store.Survey(ctx, slug)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	s.surveys[slug] = cached[*survey.Survey]{def, s.now()}
	s.cacheMu.Unlock()
	return def, nil
}

func (s *Server) forgetSurvey(slug string) {
	s.cacheMu.Lock()
	delete(s.surveys, slug)
	s.cacheMu.Unlock()
}

// Error is what a handler returns for a request it refuses; Message and
// Fields are shown to the user, so they never carry driver text.
type Error struct {
	Status  int
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string { return e.Message }

func errInvalid(fields map[string]string) *Error {
	return &Error{Status: fiber.StatusBadRequest, Message: "invalid request", Fields: fields}
}

func errStatus(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// storageError maps a storage error to a safe HTTP error.
func storageError(err error, what string) *Error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errStatus(fiber.StatusNotFound, what+" not found")
	case errors.Is(err, storage.ErrConflict):
		return errStatus(fiber.StatusConflict, what+" already exists")
	case errors.Is(err, storage.ErrGone):
		return errStatus(fiber.StatusGone, what+" is no longer available")
	case errors.Is(err, storage.ErrInvalid):
		return errStatus(fiber.StatusBadRequest, "invalid "+what)
	case errors.Is(err, storage.ErrBusy):
		return errStatus(fiber.StatusServiceUnavailable, "busy, try again shortly")
	case storage.IsUnavailable(err):
		return errStatus(fiber.StatusServiceUnavailable, "the database is unavailable, try again shortly")
	}
	return nil
}

// errorHandler turns any error into a JSON error for the API or a friendly
// page for browsers; unknown errors are logged and shown as "Internal error."
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var e *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe):
		e = &Error{Status: fe.Code, Message: fe.Message}
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			e.Message = "request body too large"
		}
	default:
		if se := storageError(err, "resource"); se != nil {
			e = se
			if storage.IsUnavailable(err) {
				s.log.Warn("database unavailable", "method", c.Method(), "route", c.Route().Path, "request_id", requestID(c), "err", err)
			}
		} else {
			s.log.Error("request failed", "method", c.Method(), "route", c.Route().Path, "request_id", requestID(c), "err", err)
			e = &Error{Status: fiber.StatusInternalServerError, Message: "Internal error."}
		}
	}
	if e.Status == fiber.StatusServiceUnavailable || e.Status == fiber.StatusTooManyRequests {
		if len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 { // a limiter may know better
			c.Set("Retry-After", "2")
		}
	}
	if wantsJSON(c) {
		body := fiber.Map{"error": e.Message}
		if len(e.Fields) > 0 {
			body["fields"] = e.Fields
		}
		return c.Status(e.Status).JSON(body)
	}
	return s.renderError(c, e)
}

func wantsJSON(c *fiber.Ctx) bool {
	p := c.Path()
	return len(p) >= 4 && p[:4] == "/api" || p == "/healthz" || p == "/readyz"
}

func requestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("request_id").(string); ok {
		return v
	}
	return ""
}
