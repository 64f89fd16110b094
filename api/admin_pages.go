package api

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// adminRoutes are the admin's pages (server-rendered forms that work
// without JavaScript) and the admin-only JSON calls for erasure and token
// revocation. CSRF is enforced by guard for every POST and DELETE here.
func (s *Server) adminRoutes(app *fiber.App) {
	s.handle(app, "GET", "/admin", permAdminPage, s.adminHome)
	s.handle(app, "GET", "/admin/users", permAdminPage, s.adminUsers)
	s.handle(app, "POST", "/admin/users", permAdminPage, s.adminCreateUser)
	s.handle(app, "POST", "/admin/users/:id", permAdminPage, s.adminUpdateUser)
	s.handle(app, "POST", "/admin/locks/clear", permAdminPage, s.adminClearLock)
	s.handle(app, "GET", "/admin/sites", permAdminPage, s.adminSites)
	s.handle(app, "POST", "/admin/sites", permAdminPage, s.adminSaveSite)
	s.handle(app, "POST", "/admin/sites/:site/departments", permAdminPage, s.adminAddDepartment)
	s.handle(app, "POST", "/admin/sites/:site/departments/:slug/delete", permAdminPage, s.adminDeleteDepartment)
	s.handle(app, "POST", "/admin/sites/:site/providers", permAdminPage, s.adminAddProvider)
	s.handle(app, "POST", "/admin/sites/:site/providers/:slug/delete", permAdminPage, s.adminDeleteProvider)
	s.handle(app, "GET", "/admin/devices", permAdminPage, s.adminDevices)
	s.handle(app, "POST", "/admin/devices", permAdminPage, s.adminCreateDevice)
	s.handle(app, "POST", "/admin/devices/:id/revoke", permAdminPage, s.adminRevokeDevice)
	s.handle(app, "GET", "/admin/tokens", permAdminPage, s.adminTokens)
	s.handle(app, "POST", "/admin/tokens", permAdminPage, s.adminCreateToken)
	s.handle(app, "POST", "/admin/tokens/:id/revoke", permAdminPage, s.adminRevokeToken)
	s.handle(app, "POST", "/admin/responses/delete", permAdminPage, s.adminDeleteResponse)

	s.handle(app, "DELETE", "/api/v1/responses/:id", permAdmin, s.apiDeleteResponse)
	s.handle(app, "DELETE", "/api/v1/tokens/:id", permAdmin, s.apiRevokeToken)

	s.accountRoutes(app)
}

// adminDone maps the ?done= key of a redirect to a fixed message, so that
// nothing from the query string is ever echoed into the page.
var adminDone = map[string]string{
	"user":     "Account saved.",
	"unlocked": "Sign-in lock cleared.",
	"site":     "Site saved.",
	"dept":     "Departments saved.",
	"prov":     "Providers saved.",
	"revoked":  "Revoked. It stops working at once.",
	"deleted":  "Response deleted. The audit log records the erasure; anonymous daily counts are kept.",
}

type adminData struct {
	Done   string
	Error  string
	Secret *adminSecret // a password, key or token shown once
	Users  []adminUser
	Locks  []storage.Lock
	Sites  []storage.Site
	Devs   []adminRow[storage.Device]
	Tokens []adminRow[storage.APIToken]
	Roles  []string
	Now    time.Time
	Audit  string // link to the audit log view
}

type adminUser struct {
	storage.User
	Self bool
}

// adminRow is a device or token with its times written out for the page.
type adminRow[T any] struct {
	V                         T
	Created, Expires, Revoked string
}

func msDate(v int64) string { return time.UnixMilli(v).UTC().Format("2006-01-02 15:04") }

func optDate(v *int64) string {
	if v == nil {
		return ""
	}
	return msDate(*v)
}

type adminSecret struct {
	Label, Value, URL string
}

func (s *Server) adminPage(c *fiber.Ctx, status int, name, title string, d *adminData) error {
	d.Roles = []string{storage.RoleAdmin, storage.RoleManager, storage.RoleQuality}
	d.Audit = s.auditLink()
	d.Now = s.now()
	if d.Done == "" {
		d.Done = adminDone[c.Query("done")]
	}
	p := s.page(c, "en", title, d)
	p.Nav = "admin"
	return s.render(c, status, name, p)
}

func back(c *fiber.Ctx, path, done string) error {
	return c.Redirect(path+"?done="+url.QueryEscape(done), fiber.StatusSeeOther)
}

func (s *Server) adminHome(c *fiber.Ctx) error {
	d := &adminData{Audit: s.auditLink()}
	return s.adminPage(c, fiber.StatusOK, "admin", "Administration", d)
}

// auditLink points at the audit log view (built with the exports) when that
// route exists.
func (s *Server) auditLink() string {
	for _, p := range []string{"/admin/audit", "/audit"} {
		if _, ok := s.perms["GET "+p]; ok {
			return p
		}
	}
	return ""
}

// Users.

func (s *Server) adminUsers(c *fiber.Ctx) error {
	return s.showUsers(c, fiber.StatusOK, &adminData{})
}

func (s *Server) showUsers(c *fiber.Ctx, status int, d *adminData) error {
	ctx := c.UserContext()
	us, err := s.store.Users(ctx)
	if err != nil {
		return err
	}
	me := principal(c).UserID
	for _, u := range us {
		d.Users = append(d.Users, adminUser{u, u.ID == me})
	}
	if d.Locks, err = s.store.Locks(ctx, s.now()); err != nil {
		return err
	}
	if d.Sites, err = s.store.Sites(ctx, nil); err != nil {
		return err
	}
	return s.adminPage(c, status, "admin_users", "Users", d)
}

// checkSites validates a manager's comma-separated site list against the
// sites that exist and returns it normalised.
func (s *Server) checkSites(c *fiber.Ctx, list string) (string, bool) {
	return s.checkSiteList(c, storage.SplitList(list))
}

// checkSiteList validates site slugs against the sites that exist and
// returns them sorted, without repeats, comma-separated.
func (s *Server) checkSiteList(c *fiber.Ctx, list []string) (string, bool) {
	sites, err := s.store.Sites(c.UserContext(), nil)
	if err != nil {
		return "", false
	}
	known := map[string]bool{}
	for _, st := range sites {
		known[st.Slug] = true
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		v = strings.TrimSpace(v)
		if !known[v] {
			return "", false
		}
		out = append(out, v)
	}
	sort.Strings(out)
	return strings.Join(slices.Compact(out), ","), true
}

// Messages of the Users page for sites (storage.CheckRoleSites). An empty
// list once meant every site; now a manager sees only what is listed, and
// admin and quality accounts have no list.
const (
	msgSitesInvalid    = "Sites must be existing site slugs, separated by commas."
	msgManagerNoSites  = "A manager must have at least one site: list the sites they look after, separated by commas."
	msgSitesNotForRole = "Only a manager has sites: admin and quality accounts see every site. Clear the sites, or choose the manager role."
)

// roleSitesMsg words storage.CheckRoleSites's verdict for the Users page ("" when there is nothing wrong).
func roleSitesMsg(err error) string {
	switch {
	case errors.Is(err, storage.ErrManagerWithoutSites):
		return msgManagerNoSites
	case errors.Is(err, storage.ErrSitesNotForRole):
		return msgSitesNotForRole
	}
	return ""
}

func (s *Server) adminCreateUser(c *fiber.Ctx) error {
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	role := c.FormValue("role")
	sites, ok := s.checkSites(c, c.FormValue("sites"))
	var msg string
	switch {
	case !looksLikeEmail(email):
		msg = "Enter the person's email address."
	case !storage.ValidRole(role):
		msg = "Choose a role."
	case !ok:
		msg = msgSitesInvalid
	default:
		msg = roleSitesMsg(storage.CheckRoleSites(role, storage.SplitList(sites)))
	}
	if msg != "" {
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: msg})
	}
	// The admin never picks the password: a random one is shown once and
	// the person replaces it on their account page.
	tok, _ := secure.NewToken("")
	pw := tok[:24]
	hash, err := secure.HashPassword(pw)
	if err != nil {
		return err
	}
	u := &storage.User{Email: email, PasswordHash: hash, Role: role, Sites: sites}
	if err := s.store.CreateUser(c.UserContext(), u); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return s.showUsers(c, fiber.StatusConflict, &adminData{Error: "An account with this email already exists."})
		}
		return err
	}
	s.store.Audit(c.UserContext(), principal(c).Actor(), "user.create", u.Email, map[string]string{"role": role, "sites": sites})
	return s.showUsers(c, fiber.StatusCreated, &adminData{Done: "Account created.",
		Secret: &adminSecret{Label: "Password for " + u.Email + " (shown once; ask them to change it at /account)", Value: pw}})
}

var emailRE = regexp.MustCompile(`^[^@\s<>"']{1,64}@[^@\s<>"']{1,190}$`)

func looksLikeEmail(s string) bool { return emailRE.MatchString(s) }

func (s *Server) adminUpdateUser(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errStatus(fiber.StatusNotFound, "account not found")
	}
	p := principal(c)
	role, disabled := c.FormValue("role"), c.FormValue("disabled") == "on"
	sites, ok := s.checkSites(c, c.FormValue("sites"))
	if !ok {
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: msgSitesInvalid})
	}
	if !storage.ValidRole(role) {
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: "Choose a role."})
	}
	// A disabled account sees nothing, so an admin may switch off a
	// manager left without sites by an older version without inventing
	// sites for them; switching them back on needs sites.
	if err := storage.CheckRoleSites(role, storage.SplitList(sites)); err != nil && !(disabled && errors.Is(err, storage.ErrManagerWithoutSites)) {
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: roleSitesMsg(err)})
	}
	// An admin cannot lock themselves out; another admin must do it, so
	// there is always someone left who can manage accounts.
	if id == p.UserID && (disabled || role != storage.RoleAdmin) {
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: "You cannot disable your own account or give up your own admin role; ask another admin."})
	}
	before, err := s.store.UserByID(ctx, id)
	if err != nil {
		if se := storageError(err, "account"); se != nil {
			return se
		}
		return err
	}
	u, err := s.store.UpdateUser(ctx, id, storage.UserChange{Role: &role, Sites: &sites, Disabled: &disabled})
	if err != nil {
		if se := storageError(err, "account"); se != nil {
			return se
		}
		return err
	}
	s.store.Audit(ctx, p.Actor(), "user.update", u.Email, map[string]any{
		"role": [2]string{before.Role, u.Role}, "sites": [2]string{before.Sites, u.Sites}, "disabled": [2]bool{before.Disabled, u.Disabled}})
	return back(c, "/admin/users", "user")
}

func (s *Server) adminClearLock(c *fiber.Ctx) error {
	ctx := c.UserContext()
	kind, v := c.FormValue("kind"), strings.TrimSpace(c.FormValue("value"))
	var err error
	switch {
	case v == "":
		return s.showUsers(c, fiber.StatusBadRequest, &adminData{Error: "Say which account or address to unlock."})
	case kind == "ip":
		err = s.throttle.ClearIP(ctx, v)
	default:
		kind = "account"
		err = s.throttle.Clear(ctx, v)
	}
	if err != nil {
		return err
	}
	s.store.Audit(ctx, principal(c).Actor(), "login.unlock", v, map[string]string{"kind": kind})
	return back(c, "/admin/users", "unlocked")
}

// Sites, departments and providers.

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func (s *Server) adminSites(c *fiber.Ctx) error { return s.showSites(c, fiber.StatusOK, &adminData{}) }

func (s *Server) showSites(c *fiber.Ctx, status int, d *adminData) error {
	var err error
	if d.Sites, err = s.store.Sites(c.UserContext(), nil); err != nil {
		return err
	}
	return s.adminPage(c, status, "admin_sites", "Sites", d)
}

func (s *Server) forgetSite(slug string) {
	s.cacheMu.Lock()
	delete(s.sites, slug)
	s.cacheMu.Unlock()
}

func (s *Server) adminSaveSite(c *fiber.Ctx) error {
	slug, name, tz := strings.TrimSpace(c.FormValue("slug")), strings.TrimSpace(c.FormValue("name")), strings.TrimSpace(c.FormValue("time_zone"))
	if tz == "" {
		tz = "UTC"
	}
	var msg string
	if _, err := time.LoadLocation(tz); err != nil {
		msg = "Time zone must be a name such as Europe/London."
	}
	if name == "" || len(name) > 100 {
		msg = "Give the site a name (100 characters at most)."
	}
	if !slugRE.MatchString(slug) {
		msg = "The short name may use lower-case letters, digits, - and _ (40 at most)."
	}
	if msg != "" {
		return s.showSites(c, fiber.StatusBadRequest, &adminData{Error: msg})
	}
	if err := s.store.UpsertSite(c.UserContext(), storage.Site{Slug: slug, Name: name, TimeZone: tz}); err != nil {
		return err
	}
	s.forgetSite(slug)
	s.store.Audit(c.UserContext(), principal(c).Actor(), "site.save", slug, map[string]string{"name": name, "time_zone": tz})
	return back(c, "/admin/sites", "site")
}

// siteParts adds a department or provider to, or removes one from, a site.
func (s *Server) siteParts(c *fiber.Ctx, kind string, remove bool) error {
	ctx := c.UserContext()
	siteSlug := strings.Clone(c.Params("site"))
	site, err := s.store.Site(ctx, siteSlug)
	if err != nil {
		if se := storageError(err, "site"); se != nil {
			return se
		}
		return err
	}
	done := map[string]string{"department": "dept", "provider": "prov"}[kind]
	if remove {
		slug := strings.Clone(c.Params("slug"))
		if kind == "department" {
			err = s.store.DeleteDepartment(ctx, site.Slug, slug)
		} else {
			err = s.store.DeleteProvider(ctx, site.Slug, slug)
		}
		if err != nil {
			if se := storageError(err, kind); se != nil {
				return se
			}
			return err
		}
		s.forgetSite(site.Slug)
		s.store.Audit(ctx, principal(c).Actor(), kind+".remove", site.Slug+"/"+slug, nil)
		return back(c, "/admin/sites", done)
	}
	slug, name := strings.TrimSpace(c.FormValue("slug")), strings.TrimSpace(c.FormValue("name"))
	if !slugRE.MatchString(slug) || name == "" || len(name) > 100 {
		return s.showSites(c, fiber.StatusBadRequest, &adminData{Error: "A " + kind + " needs a short name (lower-case letters, digits, - and _) and a name of at most 100 characters."})
	}
	up := storage.Site{Slug: site.Slug, Name: site.Name, TimeZone: site.TimeZone, CreatedAt: site.CreatedAt}
	if kind == "department" {
		up.Departments = []storage.Department{{Slug: slug, Name: name}}
	} else {
		up.Providers = []storage.Provider{{Slug: slug, Name: name}}
	}
	if err := s.store.UpsertSite(ctx, up); err != nil {
		return err
	}
	s.forgetSite(site.Slug)
	s.store.Audit(ctx, principal(c).Actor(), kind+".save", site.Slug+"/"+slug, map[string]string{"name": name})
	return back(c, "/admin/sites", done)
}

func (s *Server) adminAddDepartment(c *fiber.Ctx) error    { return s.siteParts(c, "department", false) }
func (s *Server) adminDeleteDepartment(c *fiber.Ctx) error { return s.siteParts(c, "department", true) }
func (s *Server) adminAddProvider(c *fiber.Ctx) error      { return s.siteParts(c, "provider", false) }
func (s *Server) adminDeleteProvider(c *fiber.Ctx) error   { return s.siteParts(c, "provider", true) }

// Kiosk devices.

func (s *Server) adminDevices(c *fiber.Ctx) error {
	return s.showDevices(c, fiber.StatusOK, &adminData{})
}

func (s *Server) showDevices(c *fiber.Ctx, status int, d *adminData) error {
	devs, err := s.store.Devices(c.UserContext())
	if err != nil {
		return err
	}
	for _, v := range devs {
		d.Devs = append(d.Devs, adminRow[storage.Device]{V: v, Created: msDate(v.CreatedAt), Revoked: optDate(v.RevokedAt)})
	}
	if d.Sites, err = s.store.Sites(c.UserContext(), nil); err != nil {
		return err
	}
	return s.adminPage(c, status, "admin_devices", "Kiosk devices", d)
}

func (s *Server) adminCreateDevice(c *fiber.Ctx) error {
	ctx := c.UserContext()
	site, name := c.FormValue("site"), strings.TrimSpace(c.FormValue("name"))
	if _, err := s.site(ctx, site); err != nil || name == "" || len(name) > 100 {
		return s.showDevices(c, fiber.StatusBadRequest, &adminData{Error: "Choose a site and name the tablet (100 characters at most)."})
	}
	key, hash := secure.NewToken("")
	d := &storage.Device{ID: uuid.NewString(), Site: site, Name: name, KeyHash: hash}
	if err := s.store.CreateDevice(ctx, d); err != nil {
		return err
	}
	s.store.Audit(ctx, principal(c).Actor(), "device.create", d.ID, map[string]string{"site": d.Site})
	u := s.link(c, "/kiosk/"+key)
	return s.showDevices(c, fiber.StatusCreated, &adminData{Done: "Kiosk registered.",
		Secret: &adminSecret{Label: "Open this address on the tablet (shown once)", Value: u, URL: u}})
}

func (s *Server) adminRevokeDevice(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	if err := s.store.RevokeDevice(c.UserContext(), id); err != nil {
		if se := storageError(err, "device"); se != nil {
			return se
		}
		return err
	}
	s.store.Audit(c.UserContext(), principal(c).Actor(), "device.revoke", id, nil)
	return back(c, "/admin/devices", "revoked")
}

// API tokens.

func (s *Server) adminTokens(c *fiber.Ctx) error {
	return s.showTokens(c, fiber.StatusOK, &adminData{})
}

func (s *Server) showTokens(c *fiber.Ctx, status int, d *adminData) error {
	ts, err := s.store.APITokens(c.UserContext())
	if err != nil {
		return err
	}
	for _, v := range ts {
		d.Tokens = append(d.Tokens, adminRow[storage.APIToken]{V: v, Created: msDate(v.CreatedAt), Expires: msDate(v.ExpiresAt), Revoked: optDate(v.RevokedAt)})
	}
	if d.Sites, err = s.store.Sites(c.UserContext(), nil); err != nil {
		return err
	}
	return s.adminPage(c, status, "admin_tokens", "API tokens", d)
}

func (s *Server) adminCreateToken(c *fiber.Ctx) error {
	name, role := strings.TrimSpace(c.FormValue("name")), c.FormValue("role")
	hours, err := strconv.Atoi(c.FormValue("expires_in_hours"))
	if err != nil || hours < 1 || hours > 24*365 || !storage.ValidRole(role) || name == "" || len(name) > 100 {
		return s.showTokens(c, fiber.StatusBadRequest, &adminData{Error: "Name the token, choose a role, and give a lifetime between 1 and 8760 hours."})
	}
	sites, bad := s.tokenSites(c, role, storage.SplitList(c.FormValue("sites")))
	if bad != "" {
		return s.showTokens(c, fiber.StatusBadRequest, &adminData{Error: "Sites " + bad + "."})
	}
	tok, hash := secure.NewToken("cvt_")
	p := principal(c)
	t := &storage.APIToken{Name: name, TokenHash: hash, Role: role, Sites: sites, ExpiresAt: s.now().Add(time.Duration(hours) * time.Hour).UnixMilli()}
	if p.UserID != 0 {
		t.CreatedBy = &p.UserID
	}
	if err := s.store.CreateAPIToken(c.UserContext(), t); err != nil {
		return err
	}
	s.store.Audit(c.UserContext(), p.Actor(), "token.create", name, map[string]any{"role": role, "sites": sites, "expires_in_hours": hours})
	return s.showTokens(c, fiber.StatusCreated, &adminData{Done: "Token created.",
		Secret: &adminSecret{Label: "Bearer token (shown once)", Value: tok}})
}

// tokenSites checks the sites of a new token (JSON API and form): a
// manager token needs existing sites, and no other role takes any (an admin
// or quality token sees every site, so a list there would promise a limit
// that is not kept). It returns them normalised, or what is wrong with them
// as a phrase that follows "sites".
func (s *Server) tokenSites(c *fiber.Ctx, role string, list []string) (string, string) {
	sites, ok := s.checkSiteList(c, list)
	rule := storage.CheckRoleSites(role, list)
	switch {
	case errors.Is(rule, storage.ErrSitesNotForRole):
		return "", "only go with a manager token: an admin or quality token sees every site"
	case !ok:
		return "", "must be existing site slugs, separated by commas"
	case errors.Is(rule, storage.ErrManagerWithoutSites):
		return "", "are required for a manager token (one at least)"
	}
	return sites, ""
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return errStatus(fiber.StatusNotFound, "token not found")
	}
	if err := s.store.RevokeAPIToken(c.UserContext(), id); err != nil {
		if se := storageError(err, "token"); se != nil {
			return se
		}
		return err
	}
	s.forgetTokens()
	s.store.Audit(c.UserContext(), principal(c).Actor(), "token.revoke", strconv.FormatInt(id, 10), nil)
	return nil
}

func (s *Server) adminRevokeToken(c *fiber.Ctx) error {
	if err := s.revokeToken(c); err != nil {
		return err
	}
	return back(c, "/admin/tokens", "revoked")
}

// apiRevokeToken is DELETE /api/v1/tokens/{id}.
func (s *Server) apiRevokeToken(c *fiber.Ctx) error {
	if err := s.revokeToken(c); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Erasure.

// deleteResponse erases one response at a patient's request and records
// who did it; the audit line names the response id, nothing it contained.
func (s *Server) deleteResponse(c *fiber.Ctx, id string) error {
	if err := s.store.DeleteResponse(c.UserContext(), id); err != nil {
		if se := storageError(err, "response"); se != nil {
			return se
		}
		return err
	}
	s.store.Audit(c.UserContext(), principal(c).Actor(), "response.delete", id, map[string]string{"reason": "erasure request"})
	return nil
}

// apiDeleteResponse is DELETE /api/v1/responses/{id}.
func (s *Server) apiDeleteResponse(c *fiber.Ctx) error {
	if err := s.deleteResponse(c, strings.Clone(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) adminDeleteResponse(c *fiber.Ctx) error {
	id := strings.TrimSpace(c.FormValue("id"))
	if id == "" || c.FormValue("confirm") != "on" {
		return s.adminPage(c, fiber.StatusBadRequest, "admin", "Administration", &adminData{Audit: s.auditLink(),
			Error: "Give the response id and tick the box to confirm."})
	}
	err := s.deleteResponse(c, id)
	var e *Error
	if errors.As(err, &e) && e.Status == fiber.StatusNotFound {
		return s.adminPage(c, fiber.StatusNotFound, "admin", "Administration", &adminData{Audit: s.auditLink(),
			Error: "No response has this id (it may already be deleted)."})
	}
	if err != nil {
		return err
	}
	return back(c, "/admin", "deleted")
}
