package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// RateLimits bounds what the public can send. A patient submits once a
// visit and a kiosk at human speed (a few forms a minute), so the limits
// only bite on scripts and floods. Staff (a session or an API token) are
// exempt: the load test and integrations use an admin token.
//
// With PostgreSQL the buckets are rows of the shared database (storage
// TakeRateToken, one atomic upsert a limited request), so every instance
// serving the clinic counts one limit together: a client spreading its
// requests over N instances still gets the limit once, not N times. That
// puts one small write in front of each public POST, which already writes
// to the same database. SQLite is one process: its buckets stay in memory.
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
	ip, kiosk *limiter // nil: off
}

// limiter is one limit: shared through the database when the store can,
// in this process's memory otherwise and while the database fails.
type limiter struct {
	prefix    string // of the shared key: "ip:" or "kiosk:"
	perSecond float64
	burst     int
	shared    *storage.Store // nil: memory only
	keys      *secure.Keyring
	local     *secure.RateLimiter
	warned    atomic.Int64 // when the fallback was last logged, Unix ns
}

func newRateLimiters(c RateLimits, st *storage.Store, keys *secure.Keyring) rateLimiters {
	mk := func(prefix string, r Rate) *limiter {
		if r.PerMinute <= 0 {
			return nil
		}
		l := &limiter{prefix: prefix, perSecond: r.PerMinute / 60, burst: r.Burst,
			local: secure.NewRateLimiter(r.PerMinute/60, r.Burst)}
		if st != nil && st.SharedRateLimits() && keys != nil {
			l.shared, l.keys = st, keys
		}
		return l
	}
	return rateLimiters{ip: mk("ip:", c.PerIP), kiosk: mk("kiosk:", c.PerKiosk)}
}

// allow takes a token for key. If the shared bucket cannot be reached it
// falls back to this instance's own bucket (failing open, but not without
// a limit): refusing every public request with 429 would blame the clients
// for an outage, and a 500 from the limiter would hide the outage behind
// it; the request goes on and meets the database itself, and the
// submission handler answers as it does for any database failure. The
// fallback is logged once a minute at most, never with the key (an
// address).
func (l *limiter) allow(ctx context.Context, key string, log *slog.Logger) (bool, time.Duration) {
	if l.shared != nil {
		// A bucket's row is locked for one statement at a time; a database
		// that does not answer within a second is not one to wait for.
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		ok, wait, err := l.shared.TakeRateToken(ctx, l.sharedKey(key), l.perSecond, l.burst)
		cancel()
		if err == nil {
			return ok, wait
		}
		if now, last := time.Now().UnixNano(), l.warned.Load(); now-last > int64(time.Minute) && l.warned.CompareAndSwap(last, now) {
			log.Warn("rate limit: shared bucket unavailable, using this instance's", "limit", strings.TrimSuffix(l.prefix, ":"), "err", err)
		}
	}
	return l.local.Allow(key)
}

// sharedKey is the database's name for key's bucket: a MAC under the
// instances' common secret, so that the table holds no client addresses
// (personal data) while every instance still finds the same row.
func (l *limiter) sharedKey(key string) string {
	return l.prefix + hex.EncodeToString(l.keys.MAC("rate-limit", []byte(key))[:16])
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
	var l *limiter
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
	if ok, wait := l.allow(c.UserContext(), key, s.log); !ok {
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
