package api

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// csrfToken is the token a signed-in user's forms and API calls must carry.
func (s *Server) csrfToken(p *Principal) string {
	if p.SessionHash == "" {
		return ""
	}
	return s.keys.CSRFToken(p.SessionHash)
}

// checkCSRF refuses a state-changing request authenticated by the session
// cookie unless it carries the session's CSRF token (form field or header).
// Bearer tokens and kiosk keys are not sent by browsers on their own, so
// they need none.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	p := principal(c)
	if p.Kind != "user" {
		return nil
	}
	tok := c.Get("X-CSRF-Token")
	if tok == "" {
		tok = c.FormValue("csrf")
	}
	if tok == "" || !s.keys.VerifyCSRF(p.SessionHash, tok) {
		return errStatus(fiber.StatusForbidden, "missing or invalid CSRF token: reload the page and try again")
	}
	return nil
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login checks credentials and opens a session; the same message for an
// unknown account and a wrong password.
func (s *Server) login(c *fiber.Ctx, email, password string) (*storage.User, error) {
	ctx := c.UserContext()
	if err := s.throttle.Check(ctx, strings.ToLower(email), c.IP()); err != nil {
		s.store.Audit(ctx, "anonymous", "login.locked", strings.ToLower(email), map[string]string{"ip": c.IP()})
		return nil, errStatus(fiber.StatusTooManyRequests, "too many failed sign-ins: try again later or ask an admin to unlock the account")
	}
	u, err := s.store.UserByEmail(ctx, email)
	ok := false
	if err == nil && !u.Disabled {
		ok = secure.VerifyPassword(u.PasswordHash, password)
	} else {
		secure.DummyVerify(password) // same time as a real check
	}
	if !ok {
		s.throttle.Failure(ctx, strings.ToLower(email), c.IP())
		s.store.Audit(ctx, "anonymous", "login.failure", strings.ToLower(email), map[string]string{"ip": c.IP()})
		return nil, errStatus(fiber.StatusUnauthorized, "wrong email or password")
	}
	s.throttle.Success(ctx, strings.ToLower(email))
	sid, hash := secure.NewToken("")
	if err := s.store.CreateSession(ctx, hash, u.ID); err != nil {
		return nil, err
	}
	s.store.Audit(ctx, "user:"+u.Email, "login.success", u.Email, map[string]string{"ip": c.IP()})
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: sid, Path: "/", HTTPOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: int(s.cfg.SessionMax / time.Second)})
	// A script signing in with the JSON API needs the session's CSRF token
	// for its next POST; only this same-origin answer carries it.
	c.Locals("csrf", s.keys.CSRFToken(hash))
	return u, nil
}

func (s *Server) logout(c *fiber.Ctx) {
	p := principal(c)
	if p.SessionHash != "" {
		s.store.DeleteSession(c.UserContext(), p.SessionHash)
		s.store.Audit(c.UserContext(), p.Actor(), "logout", "", nil)
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(1, 0), MaxAge: -1})
}

// apiLogin is POST /api/v1/auth/login.
func (s *Server) apiLogin(c *fiber.Ctx) error {
	// A cross-site HTML form cannot send application/json without a CORS
	// preflight, which we never grant: this closes login CSRF for the API.
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return errStatus(fiber.StatusUnsupportedMediaType, "send the credentials as application/json")
	}
	var b loginBody
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	if b.Email == "" || b.Password == "" {
		return errInvalid(map[string]string{"email": "email and password are required"})
	}
	u, err := s.login(c, b.Email, b.Password)
	if err != nil {
		return err
	}
	c.Set("Cache-Control", "no-store")
	return c.JSON(fiber.Map{"email": u.Email, "role": u.Role, "csrf": c.Locals("csrf")})
}

// apiLogout is POST /api/v1/auth/logout.
func (s *Server) apiLogout(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	s.logout(c)
	return c.SendStatus(fiber.StatusNoContent)
}

type loginPageData struct {
	Email, Next, Error string
	LoginCSRF          string
}

// loginCookie carries the login form's anti-forgery value. Before sign-in
// there is no session to bind a CSRF token to, so the form repeats a random
// value that only our own page can have set: a SameSite=Strict cookie is not
// sent with a cross-site POST, so a forged login form cannot match it.
const loginCookie = "cv_login"

func (s *Server) loginForm(c *fiber.Ctx, status int, d loginPageData) error {
	tok, _ := secure.NewToken("")
	c.Cookie(&fiber.Cookie{Name: loginCookie, Value: tok, Path: "/login", HTTPOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: 3600})
	d.LoginCSRF = tok
	c.Set("Cache-Control", "no-store")
	return s.render(c, status, "login", s.page(c, "en", "Sign in", d))
}

func (s *Server) loginPage(c *fiber.Ctx) error {
	return s.loginForm(c, fiber.StatusOK, loginPageData{Next: safeNext(c.Query("next"))})
}

func (s *Server) loginSubmit(c *fiber.Ctx) error {
	email, pw, next := c.FormValue("email"), c.FormValue("password"), safeNext(c.FormValue("next"))
	if ck := c.Cookies(loginCookie); ck == "" || !secure.ConstantTimeEqual(ck, c.FormValue("login_csrf")) {
		return s.loginForm(c, fiber.StatusForbidden, loginPageData{Email: email, Next: next,
			Error: "This sign-in form has expired or did not come from this site. Please sign in again."})
	}
	_, err := s.login(c, email, pw)
	var e *Error
	if errors.As(err, &e) {
		return s.loginForm(c, e.Status, loginPageData{Email: email, Next: next, Error: e.Message})
	}
	if err != nil {
		return err
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) logoutSubmit(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	s.logout(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// home sends staff to the dashboard and everyone else to sign in.
func (s *Server) home(c *fiber.Ctx) error {
	if principal(c).Kind == "user" {
		return c.Redirect("/dashboard", fiber.StatusSeeOther)
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

type tokenBody struct {
	Role           string   `json:"role"`
	Name           string   `json:"name"`
	Sites          []string `json:"sites"` // required for a manager token, refused for the others
	ExpiresInHours int      `json:"expires_in_hours"`
}

// apiCreateToken is POST /api/v1/tokens.
func (s *Server) apiCreateToken(c *fiber.Ctx) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	var b tokenBody
	if err := decodeJSON(c.Body(), &b); err != nil {
		return err
	}
	f := map[string]string{}
	if !storage.ValidRole(b.Role) {
		f["role"] = "must be admin, manager or quality"
	}
	if strings.TrimSpace(b.Name) == "" || len(b.Name) > 100 {
		f["name"] = "is required (100 characters at most)"
	}
	if b.ExpiresInHours == 0 {
		b.ExpiresInHours = 24
	}
	if b.ExpiresInHours < 1 || b.ExpiresInHours > 24*365 {
		f["expires_in_hours"] = "must be between 1 and 8760"
	}
	sites, bad := s.tokenSites(c, b.Role, b.Sites)
	if bad != "" && f["role"] == "" {
		f["sites"] = bad
	}
	if len(f) > 0 {
		return errInvalid(f)
	}
	tok, hash := secure.NewToken("cvt_")
	p := principal(c)
	t := &storage.APIToken{Name: b.Name, TokenHash: hash, Role: b.Role, Sites: sites,
		ExpiresAt: s.now().Add(time.Duration(b.ExpiresInHours) * time.Hour).UnixMilli()}
	if p.UserID != 0 {
		t.CreatedBy = &p.UserID
	}
	if err := s.store.CreateAPIToken(c.UserContext(), t); err != nil {
		return err
	}
	s.store.Audit(c.UserContext(), p.Actor(), "token.create", b.Name, map[string]any{"role": b.Role, "sites": sites, "expires_in_hours": b.ExpiresInHours})
	out := fiber.Map{"token": tok, "role": b.Role,
		"expires_at": time.UnixMilli(t.ExpiresAt).UTC().Format(time.RFC3339)}
	if sites != "" {
		out["sites"] = t.SiteList()
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}
