package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
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
	Sites       []string // a manager's sites; nil means all
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

// CanSeeSite reports whether a staff principal may see a site's data.
func (p *Principal) CanSeeSite(site string) bool {
	if p.Role == storage.RoleAdmin || p.Role == storage.RoleQuality || len(p.Sites) == 0 {
		return p.Kind == "user" || p.Kind == "token"
	}
	return slices.Contains(p.Sites, site)
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
	c.Locals("nonce", base64.RawStdEncoding.EncodeToString(b[8:]))
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

// securityHeaders sets the headers every response carries. Inline scripts
// run only with this request's nonce.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.Set("Content-Security-Policy", fmt.Sprintf("default-src 'self'; script-src 'self' 'nonce-%s'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", nonce(c)))
	if s.cfg.SecureCookies {
		c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
	return c.Next()
}

// authenticate resolves the caller from a bearer token, a kiosk key or a
// session cookie. It never refuses; guard does.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p := &Principal{Kind: "public"}
	ctx := c.UserContext()
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		tok, err := s.store.APITokenByHash(ctx, secure.HashToken(strings.TrimSpace(h[7:])))
		if err != nil {
			return errStatus(fiber.StatusUnauthorized, "invalid or expired token")
		}
		p = &Principal{Kind: "token", Role: tok.Role, TokenID: tok.ID}
	} else if k := c.Get("X-Kiosk-Key"); k != "" {
		d, err := s.store.DeviceByKeyHash(ctx, secure.HashToken(k))
		if err != nil {
			return errStatus(fiber.StatusUnauthorized, "unknown or revoked kiosk key")
		}
		p = &Principal{Kind: "kiosk", Device: d}
	} else if sid := c.Cookies(sessionCookie); sid != "" {
		h := secure.HashToken(sid)
		if u, _, err := s.store.SessionUser(ctx, h, s.cfg.SessionIdle, s.cfg.SessionMax); err == nil {
			p = &Principal{Kind: "user", Role: u.Role, UserID: u.ID, Email: u.Email, Sites: u.SiteList(), SessionHash: h}
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
			if p.Role == storage.RoleAdmin || slices.Contains(perm.Roles, p.Role) {
				return c.Next()
			}
			return errStatus(fiber.StatusForbidden, "your role may not do this")
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
