package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// Principal is who is calling.
type Principal struct {
	Kind        string // "public", "user", "token", "kiosk"
	Role        string // staff role for users and tokens
	UserID      int64
	Email       string
	Sites       []string // a manager's sites (user or token); nil for other roles
	Device      *storage.Device
	SessionHash string
	TokenID     int64
}

// Actor names the principal in the audit log and logs (never contact data).
func (p *Principal) Actor() string {
	switch p.Kind {
	case "user":
		return "user:" + p.Email
	case "token":
		return fmt.Sprintf("token:%d", p.TokenID)
	case "kiosk":
		return "kiosk:" + p.Device.ID
	}
	return "public"
}

// CanSeeSite reports whether a staff principal may see a site's data: an
// admin or quality principal every site, a manager only their own.
func (p *Principal) CanSeeSite(site string) bool {
	if p.Kind != "user" && p.Kind != "token" {
		return false
	}
	if p.Role == storage.RoleAdmin || p.Role == storage.RoleQuality {
		return true
	}
	return slices.Contains(p.Sites, site)
}

// siteless reports a manager with no sites: an account or token made
// before sites were required, when an empty list meant every site.
func (p *Principal) siteless() bool {
	return (p.Kind == "user" || p.Kind == "token") && p.Role == storage.RoleManager && len(p.Sites) == 0
}

// managerSites is what a principal may see of a stored site list: only a
// manager is limited, whatever an admin or quality account has left over
// in its row from an earlier role.
func managerSites(role, list string) []string {
	if role != storage.RoleManager {
		return nil
	}
	return storage.SplitList(list)
}

func principal(c *fiber.Ctx) *Principal {
	if p, ok := c.Locals("principal").(*Principal); ok {
		return p
	}
	return &Principal{Kind: "public"}
}

const sessionCookie = "cv_session"

// recoverPanics answers 500 with a request id and logs the stack.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", requestID(c), "route", c.Route().Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &Error{Status: fiber.StatusInternalServerError, Message: "Internal error. Request id: " + requestID(c)}
		}
	}()
	return c.Next()
}

// requestMeta gives each request an id and a CSP nonce, and records metrics.
func (s *Server) requestMeta(c *fiber.Ctx) error {
	b := make([]byte, 16)
	rand.Read(b)
	c.Locals("request_id", hex.EncodeToString(b[:8]))
	c.Locals("nonce", base64.RawURLEncoding.EncodeToString(b[8:]))
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		// The error handler has not run yet; estimate from the error.
		status = statusOf(err)
	}
	s.metrics.observeRequest(c.Method(), c.Route().Path, status, time.Since(start))
	return err
}

func statusOf(err error) int {
	if e, ok := err.(*Error); ok {
		return e.Status
	}
	if e, ok := err.(*fiber.Error); ok {
		return e.Code
	}
	return 500
}

func nonce(c *fiber.Ctx) string {
	n, _ := c.Locals("nonce").(string)
	return n
}

// securityState is what the security middleware works out once at start.
type securityState struct {
	proxies         []netip.Prefix // trusted reverse proxies (CAREVOICE_TRUSTED_PROXIES)
	kioskAncestors  string         // frame-ancestors sources for kiosk pages; "" = none
	csp, cspKiosk   [2]string      // the CSP around the nonce, for staff/patient and kiosk pages
	hstsFromProxies bool           // believe X-Forwarded-Proto from a trusted proxy
}

// initSecurity parses the security settings; New calls it before routes.
func (s *Server) initSecurity() error {
	for _, p := range s.cfg.TrustedProxies {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("api: trusted proxy %q is neither an address nor a CIDR range", p)
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		s.sec.proxies = append(s.sec.proxies, pre.Masked())
	}
	anc, err := FrameAncestors(s.cfg.KioskFrameAncestors)
	if err != nil {
		return err
	}
	s.sec.kioskAncestors = anc
	s.sec.hstsFromProxies = len(s.sec.proxies) > 0
	// Behind a TLS-terminating proxy the public URL says https: cookies
	// must then be Secure even though this process speaks plain HTTP.
	if strings.HasPrefix(strings.ToLower(s.cfg.BaseURL), "https://") {
		s.cfg.SecureCookies = true
	}
	const base = "default-src 'self'; script-src 'self' 'nonce-"
	const rest = "'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors "
	s.sec.csp = [2]string{base, rest + "'none'"}
	s.sec.cspKiosk = s.sec.csp
	if anc != "" {
		s.sec.cspKiosk[1] = rest + anc
	}
	return nil
}

// FrameAncestors checks a CAREVOICE_KIOSK_FRAME_ANCESTORS value: space-
// separated CSP sources ('self' or http(s) origins, wildcards in the host
// allowed). Anything else is refused rather than passed into a header.
func FrameAncestors(v string) (string, error) {
	var out []string
	for _, f := range strings.Fields(v) {
		ok := f == "'self'"
		if !ok {
			if u, err := url.Parse(f); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
				u.User == nil && u.RawQuery == "" && u.Fragment == "" && !strings.ContainsAny(f, ";,'\"") {
				ok = true
			}
		}
		if !ok {
			return "", fmt.Errorf("api: kiosk frame ancestor %q must be 'self' or an origin such as https://portal.example.org", f)
		}
		out = append(out, f)
	}
	return strings.Join(out, " "), nil
}

// trustedProxy reports whether addr is one of the configured proxies.
func (s *Server) trustedProxy(addr string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.sec.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddress settles the client's address before anything reads c.IP().
// Fiber believes X-Forwarded-For only from a trusted proxy, but then takes
// its leftmost entry, which the client itself can write. A proxy appends
// the address it saw, so the client is the rightmost entry that is not one
// of our own proxies; the header is rewritten to just that address.
func (s *Server) clientAddress(c *fiber.Ctx) error {
	if len(s.sec.proxies) == 0 {
		return c.Next()
	}
	remote := c.Context().RemoteIP().String()
	if !s.trustedProxy(remote) {
		c.Request().Header.Del(fiber.HeaderXForwardedFor)
		return c.Next()
	}
	client := remote
	parts := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.TrimSpace(parts[i])
		a, err := netip.ParseAddr(p)
		if err != nil {
			break // garbage from the client side: stop at the last good hop
		}
		client = a.Unmap().String()
		if !s.trustedProxy(p) {
			break
		}
	}
	c.Request().Header.Set(fiber.HeaderXForwardedFor, client)
	return c.Next()
}

// securityHeaders sets the headers every response carries. Inline scripts
// run only with this request's nonce; nothing may frame a page except a
// kiosk page when CAREVOICE_KIOSK_FRAME_ANCESTORS allows a portal to.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	// Invitation tokens and kiosk keys are in URLs: no page may send its
	// address to another site, staff pages included.
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	csp := s.sec.csp
	if s.sec.kioskAncestors != "" && strings.HasPrefix(c.Path(), "/kiosk/") {
		csp = s.sec.cspKiosk
	} else {
		c.Set("X-Frame-Options", "DENY")
	}
	c.Set("Content-Security-Policy", csp[0]+nonce(c)+csp[1])
	// Health data stays out of browser and proxy caches unless a handler
	// says otherwise (static assets do).
	c.Set("Cache-Control", "no-store")
	if s.cfg.SecureCookies || (s.sec.hstsFromProxies && c.Protocol() == "https") {
		c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// newThrottle is the login throttle over the shared database, so limits and
// an admin's clear hold across instances and restarts.
func newThrottle(st *storage.Store, now func() time.Time) *secure.LoginThrottle {
	t := secure.NewLoginThrottle()
	t.Store = st.ThrottleStore()
	t.Now = now
	return t
}

// authenticate resolves the caller from a bearer token, a kiosk key or a
// session cookie. It refuses only a bearer token or kiosk key that is bad
// (401) or cannot be checked (503); permissions are guard's. A session that
// cannot be read is no session: static files and public pages still load.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p := &Principal{Kind: "public"}
	ctx := c.UserContext()
	if s.cfg.MetricsToken != "" && strings.EqualFold(strings.TrimSuffix(c.Path(), "/"), "/metrics") {
		// The scraper's bearer token is the metrics token, not an API
		// token; metricsHandler checks it. The path is matched as the
		// router does (neither strict nor case-sensitive), so that
		// "/metrics/" is not refused as a bad API token.
		c.Locals("principal", p)
		return c.Next()
	}
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		tok, err := s.apiToken(ctx, secure.HashToken(strings.TrimSpace(h[7:])))
		if storage.IsUnavailable(err) {
			// The database, not the credential, failed: 503 with
			// Retry-After (errorHandler), so that a client retries
			// rather than drops its answers or its token as refused.
			return err
		}
		if err != nil {
			return errStatus(fiber.StatusUnauthorized, "invalid or expired token")
		}
		p = &Principal{Kind: "token", Role: tok.Role, TokenID: tok.ID, Sites: managerSites(tok.Role, tok.Sites)}
	} else if k := c.Get("X-Kiosk-Key"); k != "" {
		d, err := s.store.DeviceByKeyHash(ctx, secure.HashToken(k))
		if storage.IsUnavailable(err) {
			return err
		}
		if err != nil {
			return errStatus(fiber.StatusUnauthorized, "unknown or revoked kiosk key")
		}
		p = &Principal{Kind: "kiosk", Device: d}
	} else if sid := c.Cookies(sessionCookie); sid != "" {
		h := secure.HashToken(sid)
		if u, _, err := s.store.SessionUser(ctx, h, s.cfg.SessionIdle, s.cfg.SessionMax); err == nil {
			p = &Principal{Kind: "user", Role: u.Role, UserID: u.ID, Email: u.Email, Sites: managerSites(u.Role, u.Sites), SessionHash: h}
		}
	}
	c.Locals("principal", p)
	return c.Next()
}

// guard enforces a route's permission.
func (s *Server) guard(perm Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := principal(c)
		if perm.Public {
			return c.Next()
		}
		if perm.Kiosk && p.Kind == "kiosk" {
			return c.Next()
		}
		if p.Kind == "user" || p.Kind == "token" {
			if p.Role != storage.RoleAdmin && !slices.Contains(perm.Roles, p.Role) {
				return errStatus(fiber.StatusForbidden, "your role may not do this")
			}
			// Refused here, once, rather than in every handler that
			// filters by p.Sites: there an empty list would read as no
			// filter at all.
			if p.siteless() && !perm.Siteless {
				if p.Kind == "token" {
					return errStatus(fiber.StatusForbidden, "This manager token has no sites; an administrator can issue a new one for your sites.")
				}
				return errStatus(fiber.StatusForbidden, "This manager account has no sites assigned; an administrator can assign them.")
			}
			// Every state change made with the session cookie carries the
			// CSRF token, checked here so that no handler can forget it.
			// Public routes are left out: patient forms take no session,
			// and logout checks for itself.
			if err := s.checkCSRF(c); err != nil {
				return err
			}
			return c.Next()
		}
		if p.Kind == "kiosk" {
			return errStatus(fiber.StatusForbidden, "a kiosk key may only submit responses")
		}
		if perm.Page {
			return c.Redirect("/login?next="+url.QueryEscape(safeNext(c.OriginalURL())), fiber.StatusSeeOther)
		}
		return errStatus(fiber.StatusUnauthorized, "sign in or give a bearer token")
	}
}

// safeNext keeps a post-login redirect on this site.
func safeNext(u string) string {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/\\") {
		return "/"
	}
	return u
}

// proxyHeader is the header Fiber's c.IP() reads, only behind trusted proxies.
func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}
