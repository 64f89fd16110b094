package api

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/secure"
)

// accountRoutes let any signed-in staff member manage their own account.
func (s *Server) accountRoutes(app *fiber.App) {
	s.handle(app, "GET", "/account", permAccountPage, s.accountPage)
	s.handle(app, "POST", "/account/password", permAccountPage, s.accountPassword)
}

type accountData struct {
	Email, Role string
	Sites       []string
	Done, Error string
}

func (s *Server) showAccount(c *fiber.Ctx, status int, d accountData) error {
	p := principal(c)
	d.Email, d.Role, d.Sites = p.Email, p.Role, p.Sites
	pg := s.page(c, "en", "Your account", d)
	pg.Nav = "account"
	return s.render(c, status, "account", pg)
}

func (s *Server) accountPage(c *fiber.Ctx) error {
	if principal(c).Kind != "user" {
		return errStatus(fiber.StatusForbidden, "only a signed-in person has an account page")
	}
	return s.showAccount(c, fiber.StatusOK, accountData{})
}

// accountPassword changes the caller's password. It asks for the current
// one (a session left open on a shared computer must not be enough to take
// the account over), counts wrong answers in the login throttle, and ends
// every other session of the account.
func (s *Server) accountPassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := principal(c)
	if p.Kind != "user" {
		return errStatus(fiber.StatusForbidden, "only a signed-in person can change a password")
	}
	cur, pw, again := c.FormValue("current"), c.FormValue("password"), c.FormValue("confirm")
	if err := s.throttle.Check(ctx, p.Email, c.IP()); err != nil {
		return s.showAccount(c, fiber.StatusTooManyRequests, accountData{Error: "Too many wrong passwords: try again later or ask an admin to unlock your account."})
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !secure.VerifyPassword(u.PasswordHash, cur) {
		s.throttle.Failure(ctx, p.Email, c.IP())
		s.store.Audit(ctx, p.Actor(), "password.failure", u.Email, map[string]string{"ip": c.IP()})
		return s.showAccount(c, fiber.StatusBadRequest, accountData{Error: "Your current password is not right."})
	}
	if pw != again {
		return s.showAccount(c, fiber.StatusBadRequest, accountData{Error: "The two new passwords are not the same."})
	}
	if err := secure.CheckPasswordPolicy(pw, u.Email); err != nil {
		return s.showAccount(c, fiber.StatusBadRequest, accountData{Error: policyMessage(err)})
	}
	hash, err := secure.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, hash, p.SessionHash); err != nil {
		return err
	}
	s.store.Audit(ctx, p.Actor(), "user.password", u.Email, map[string]string{"ip": c.IP()})
	return s.showAccount(c, fiber.StatusOK, accountData{Done: "Password changed. You were signed out everywhere else."})
}

// policyMessage is the policy error's text, which secure writes for the
// person choosing the password.
func policyMessage(err error) string {
	for _, e := range []error{secure.ErrPasswordTooShort, secure.ErrPasswordTooLong, secure.ErrPasswordCommon,
		secure.ErrPasswordHasEmail, secure.ErrPasswordRepetitive} {
		if errors.Is(err, e) {
			return "The new " + e.Error() + "."
		}
	}
	return "Choose another password."
}
