package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// EnvChromium names a Chromium binary to use instead of the usual places.
const EnvChromium = "CAREVOICE_CHROMIUM"

// EnvScreenshots names the folder the screenshot test writes PNG files to
// (the README uses docs/screenshots); unset, no files are written.
const EnvScreenshots = "CAREVOICE_SCREENSHOTS"

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserSkip   string
	browserDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
	os.Exit(code)
}

// chromiumPath finds Debian's Chromium; the suite never downloads a browser.
func chromiumPath() string {
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return ""
		}
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser returns the shared headless browser, started on first use, or
// skips the test when there is none.
func browser(t testing.TB) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		path := chromiumPath()
		if path == "" {
			browserSkip = "browser tests skipped: no Chromium found (apt-get install chromium, or set " + EnvChromium + ")"
			return
		}
		dir, err := os.MkdirTemp("", "carevoice-chromium-")
		if err != nil {
			browserSkip = "browser tests skipped: " + err.Error()
			return
		}
		browserDir = dir
		// Without the background-networking flags Chromium waits on
		// Google services that a closed network never answers.
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.UserDataDir(dir),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-default-apps", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
			chromedp.Flag("no-pings", true),
			chromedp.Flag("metrics-recording-only", true),
			chromedp.Flag("password-store", "basic"),
			chromedp.Flag("lang", "en-US"),
			chromedp.WindowSize(1280, 900),
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		// Start the browser now, with a bound, so a broken install fails
		// clearly instead of hanging each test.
		// (The first action must run on bctx itself: the browser lives as
		// long as the context it was started with.)
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(bctx) }()
		select {
		case err = <-started:
		case <-time.After(60 * time.Second):
			err = fmt.Errorf("no answer in 60s")
		}
		if err != nil {
			bcancel()
			acancel()
			browserSkip = fmt.Sprintf("browser tests skipped: Chromium at %s did not start: %v", path, err)
			return
		}
		browserCtx = bctx
		browserCancel = func() { bcancel(); acancel() }
	})
	if browserSkip != "" {
		t.Skip(browserSkip)
	}
	return browserCtx
}

// tab opens a new tab (its own target) in the shared browser, closed when
// the test ends. Every action on it is bounded by a generous timeout.
func tab(t testing.TB) context.Context {
	t.Helper()
	b := browser(t)
	ctx, cancel := chromedp.NewContext(b)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// app is the real CareVoice server on a real port and a real SQLite file.
// It can be stopped and started again on the same port and database, as
// when a clinic's server restarts under a kiosk.
type app struct {
	t     testing.TB
	store *storage.Store
	keys  *secure.Keyring
	an    *analytics.Analyzer
	cfg   api.Config
	addr  string
	URL   string
	token string // admin bearer token, made on first use

	mu    sync.Mutex
	fiber *fiber.App
	done  chan struct{}
	ln    *trackingListener
}

// trackingListener remembers the connections it accepted, so that stop can
// cut them. A graceful shutdown that times out leaves a busy keep-alive
// connection served, and a browser that reuses it reaches a server the test
// believes stopped: the kiosk's offline answers then went through instead of
// waiting on the tablet (a flake seen once on a loaded CI machine).
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes every connection accepted (closing a closed one is harmless).
func (l *trackingListener) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func startApp(t testing.TB, cfg api.Config) *app {
	t.Helper()
	browser(t)
	return startAppWith(t, cfg, storagetest.SQLite(t))
}

func startAppWith(t testing.TB, cfg api.Config, st *storage.Store) *app {
	t.Helper()
	browser(t) // skip before any work when there is no browser
	keys, err := secure.NewKeyring(secure.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	an, err := analytics.New()
	if err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, store: st, keys: keys, an: an, cfg: cfg, addr: "127.0.0.1:0"}
	a.start()
	t.Cleanup(a.stop)
	return a
}

// start serves on a.addr (the first time, a free port; later the same one).
func (a *app) start() {
	a.t.Helper()
	logger := storagetest.Quiet
	if os.Getenv("CAREVOICE_BROWSERTEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	_, f, err := api.New(api.Deps{Store: a.store, Analyzer: a.an, Keys: a.keys, Logger: logger, Config: a.cfg})
	if err != nil {
		a.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", a.addr)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the old socket is still closing
	}
	if err != nil {
		a.t.Fatalf("listen %s: %v", a.addr, err)
	}
	a.addr = ln.Addr().String()
	a.URL = "http://" + a.addr
	tl := &trackingListener{Listener: ln}
	done := make(chan struct{})
	go func() { defer close(done); f.Listener(tl) }()
	a.mu.Lock()
	a.fiber, a.done, a.ln = f, done, tl
	a.mu.Unlock()
}

// stop shuts the server down and cuts every connection it had, as a server
// that went away would; the database stays open.
func (a *app) stop() {
	a.mu.Lock()
	f, done, tl := a.fiber, a.done, a.ln
	a.fiber = nil
	a.mu.Unlock()
	if f == nil {
		return
	}
	f.ShutdownWithTimeout(5 * time.Second)
	tl.cut()
	<-done
}

// device registers a kiosk for site and returns its key.
func (a *app) device(site string) string {
	a.t.Helper()
	key, hash := secure.NewToken("")
	d := &storage.Device{ID: fmt.Sprintf("dev-%d", time.Now().UnixNano()), Site: site, Name: "waiting room tablet", KeyHash: hash}
	if err := a.store.CreateDevice(context.Background(), d); err != nil {
		a.t.Fatal(err)
	}
	return key
}

// invitation makes a single-use link valid for ttl (negative: already expired).
func (a *app) invitation(surveySlug, site string, ttl time.Duration) string {
	a.t.Helper()
	tok, hash := secure.NewToken("")
	inv := []storage.Invitation{{TokenHash: hash, Survey: surveySlug, Site: site, ExpiresAt: time.Now().Add(ttl).UnixMilli(), CreatedBy: "browsertest"}}
	if err := a.store.CreateInvitations(context.Background(), inv); err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// user creates a staff account and returns its password.
func (a *app) user(email, role string, sites ...string) string {
	a.t.Helper()
	return storagetest.CreateUser(a.t, a.store, email, role, sites...)
}

// api calls the JSON API as an admin (a bearer token made for the test)
// and returns the decoded answer, failing on any status above 299.
func (a *app) api(method, path string, body any) map[string]any {
	a.t.Helper()
	if a.token == "" {
		tok, hash := secure.NewToken("cvt_")
		if err := a.store.CreateAPIToken(context.Background(), &storage.APIToken{Name: "browsertest", TokenHash: hash, Role: "admin",
			ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
			a.t.Fatal(err)
		}
		a.token = tok
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode > 299 {
		a.t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
	}
	return out
}

// response reads a stored response back by id.
func (a *app) response(id string) *storage.StoredResponse {
	a.t.Helper()
	r, err := a.store.ResponseByID(context.Background(), id)
	if err != nil {
		a.t.Fatalf("response %s: %v", id, err)
	}
	return r
}

// screenshotDir is where screenshots go, or "" when none are wanted.
func screenshotDir(t testing.TB) string {
	d := os.Getenv(EnvScreenshots)
	if d == "" {
		return ""
	}
	if !filepath.IsAbs(d) {
		// Relative to the repository root, not to this package.
		d = filepath.Join("..", d)
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}
