// Package apitest runs the real Fiber app on a real SQLite file (or
// PostgreSQL) for HTTP tests: requests go through app.Test, a full HTTP
// round trip through Fiber's server code. There are no mocks.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// Env is one running app with its database.
type Env struct {
	T      testing.TB
	Store  *storage.Store
	Server *api.Server
	App    *fiber.App
	Keys   *secure.Keyring
	// Now is the app's clock; tests may move it.
	Now time.Time
}

// Options adjust the app under test.
type Options struct {
	Postgres bool
	Config   api.Config
	// Store, when set, is used instead of a fresh one (tests that read
	// the SQLite file itself or reopen it).
	Store *storage.Store
}

// New starts an app on a fresh SQLite file.
func New(tb testing.TB) *Env { return NewWith(tb, Options{}) }

// NewWith starts an app with options.
func NewWith(tb testing.TB, o Options) *Env {
	tb.Helper()
	var st *storage.Store
	if o.Store != nil {
		st = o.Store
	} else if o.Postgres {
		st = storagetest.Postgres(tb)
	} else {
		st = storagetest.SQLite(tb)
	}
	keys, err := secure.NewKeyring(secure.GenerateKey())
	if err != nil {
		tb.Fatal(err)
	}
	an, err := analytics.New()
	if err != nil {
		tb.Fatal(err)
	}
	e := &Env{T: tb, Store: st, Keys: keys}
	srv, app, err := api.New(api.Deps{Store: st, Analyzer: an, Keys: keys, Logger: storagetest.Quiet, Config: o.Config,
		Now: func() time.Time {
			if e.Now.IsZero() {
				return time.Now()
			}
			return e.Now
		}})
	if err != nil {
		tb.Fatal(err)
	}
	e.Server, e.App = srv, app
	return e
}

// Client is a caller with optional credentials.
type Client struct {
	env    *Env
	Cookie string // session cookie value
	CSRF   string
	Bearer string
	Kiosk  string
	Header http.Header
}

// Anon is a caller without credentials.
func (e *Env) Anon() *Client { return &Client{env: e} }

// CreateUser makes an account and returns its password.
func (e *Env) CreateUser(email, role string, sites ...string) string {
	e.T.Helper()
	return storagetest.CreateUser(e.T, e.Store, email, role, sites...)
}

// Login creates (if needed) and signs in a user of role, returning a client
// carrying the session cookie and CSRF token.
func (e *Env) Login(role string, sites ...string) *Client {
	e.T.Helper()
	email := fmt.Sprintf("%s-%d@example.org", role, time.Now().UnixNano())
	pw := e.CreateUser(email, role, sites...)
	return e.LoginAs(email, pw)
}

// LoginAs signs in an existing account.
func (e *Env) LoginAs(email, pw string) *Client {
	e.T.Helper()
	resp := e.Anon().JSON("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw})
	if resp.StatusCode != 200 {
		e.T.Fatalf("login %s: status %d: %s", email, resp.StatusCode, resp.Body)
	}
	c := &Client{env: e}
	for _, ck := range resp.Cookies {
		if ck.Name == "cv_session" {
			c.Cookie = ck.Value
		}
	}
	if c.Cookie == "" {
		e.T.Fatal("login: no session cookie")
	}
	c.CSRF = e.Keys.CSRFToken(secure.HashToken(c.Cookie))
	return c
}

// Token creates a bearer token of role (a manager's limited to sites).
func (e *Env) Token(role string, sites ...string) *Client {
	e.T.Helper()
	tok, hash := secure.NewToken("cvt_")
	if err := e.Store.CreateAPIToken(context.Background(), &storage.APIToken{Name: "test", TokenHash: hash, Role: role,
		Sites: strings.Join(sites, ","), ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		e.T.Fatal(err)
	}
	return &Client{env: e, Bearer: tok}
}

// Device registers a kiosk for site and returns a client with its key.
func (e *Env) Device(site string) (*Client, *storage.Device) {
	e.T.Helper()
	key, hash := secure.NewToken("")
	d := &storage.Device{ID: fmt.Sprintf("dev-%d", time.Now().UnixNano()), Site: site, Name: "tablet", KeyHash: hash}
	if err := e.Store.CreateDevice(context.Background(), d); err != nil {
		e.T.Fatal(err)
	}
	return &Client{env: e, Kiosk: key}, d
}

// Response is a finished HTTP exchange.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       string
	Cookies    []*http.Cookie
}

// Decode unmarshals the JSON body.
func (r *Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		tb.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Do sends a request with the client's credentials.
func (c *Client) Do(method, path string, body io.Reader, contentType string) *Response {
	c.env.T.Helper()
	req := httptest.NewRequest(method, path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.Cookie != "" {
		req.AddCookie(&http.Cookie{Name: "cv_session", Value: c.Cookie})
		if method != "GET" && method != "HEAD" && req.Header.Get("X-CSRF-Token") == "" && c.CSRF != "" {
			req.Header.Set("X-CSRF-Token", c.CSRF)
		}
	}
	if c.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.Bearer)
	}
	if c.Kiosk != "" {
		req.Header.Set("X-Kiosk-Key", c.Kiosk)
	}
	resp, err := c.env.App.Test(req, 30000)
	if err != nil {
		c.env.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: string(b), Cookies: resp.Cookies()}
}

// Get sends a GET.
func (c *Client) Get(path string) *Response { return c.Do("GET", path, nil, "") }

// JSON sends v as a JSON body.
func (c *Client) JSON(method, path string, v any) *Response {
	c.env.T.Helper()
	var body []byte
	switch b := v.(type) {
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			c.env.T.Fatal(err)
		}
	}
	return c.Do(method, path, bytes.NewReader(body), "application/json")
}

// Form posts url-encoded form values.
func (c *Client) Form(path string, v url.Values) *Response {
	c.env.T.Helper()
	return c.Do("POST", path, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}
