package api

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/secure"
)

// RateLimits bounds what the public can send. A patient submits once a
// visit and a kiosk at human speed (a few forms a minute), so the limits
// only bite on scripts and floods. Staff (a session or an API token) are
// exempt: the load test and integrations use an admin token.
//
// Buckets live in each instance's memory. With several instances on one
// PostgreSQL database a client whose requests are spread over N instances
// may get up to N times the limit; we accept that rather than put a
// database write in front of every public request (the very path the
// limits protect). A load balancer that keeps a client on one instance
// (hash on the client address) makes the limit exact.
type RateLimits struct {
	PerIP    Rate // state-changing requests from one address without credentials
	PerKiosk Rate // submissions from one kiosk key
}

// Rate is Burst requests at once, then PerMinute a minute; PerMinute 0 is
// no limit.
type Rate struct {
	PerMinute float64
	Burst     int
}

// DefaultRateLimits: 30 a minute an address (a waiting room behind one NAT
// stays well inside), 6 a minute a kiosk.
var DefaultRateLimits = RateLimits{PerIP: Rate{PerMinute: 30, Burst: 30}, PerKiosk: Rate{PerMinute: 6, Burst: 6}}

// ParseRate reads "30/m", "2/s", "1000/h" or a bare number (a minute), with
// the burst equal to the count; "0" or "off" turns the limit off.
func ParseRate(v string) (Rate, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	if v == "off" || v == "0" {
		return Rate{}, nil
	}
	num, unit, _ := strings.Cut(v, "/")
	n, err := strconv.ParseFloat(num, 64)
	per := map[string]float64{"": 1, "m": 1, "min": 1, "s": 60, "sec": 60, "h": 1.0 / 60, "hour": 1.0 / 60}
	f, ok := per[unit]
	if err != nil || !ok || n <= 0 || math.IsInf(n, 0) || n > 1e9 {
		return Rate{}, fmt.Errorf("rate %q: want a count per minute such as 30/m, 2/s or 1000/h, or off", v)
	}
	return Rate{PerMinute: n * f, Burst: max(1, int(math.Ceil(n)))}, nil
}

type rateLimiters struct {
	ip, kiosk *secure.RateLimiter // nil: off
}

func newRateLimiters(c RateLimits) rateLimiters {
	mk := func(r Rate) *secure.RateLimiter {
		if r.PerMinute <= 0 {
			return nil
		}
		return secure.NewRateLimiter(r.PerMinute/60, r.Burst)
	}
	return rateLimiters{ip: mk(c.PerIP), kiosk: mk(c.PerKiosk)}
}

// rateLimit refuses public and kiosk requests over their limits with 429
// and a Retry-After that says when the next one will pass. Reading pages is
// not limited here: only what writes (submissions, sign-ins).
func (s *Server) rateLimit(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	p := principal(c)
	var l *secure.RateLimiter
	var key string
	switch p.Kind {
	case "kiosk":
		l, key = s.limits.kiosk, p.Device.ID
	case "public":
		l, key = s.limits.ip, c.IP()
	}
	if l == nil {
		return c.Next()
	}
	if ok, wait := l.Allow(key); !ok {
		secs := int64(math.Ceil(wait.Seconds()))
		if wait > time.Hour || secs < 1 {
			secs = max(1, min(secs, 3600))
		}
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(secs, 10))
		s.metrics.observeRateLimited(p.Kind)
		return &Error{Status: fiber.StatusTooManyRequests, Message: "too many submissions from here: please wait a moment and try again"}
	}
	return c.Next()
}
