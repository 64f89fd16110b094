package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

func TestVersion(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "carevoice.db")
	var out bytes.Buffer
	if err := printVersion(&out, []string{"--db", db}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"carevoice " + version + "\n", "analyzer " + analytics.Version + "\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("version output %q lacks %q", got, want)
		}
	}
	m := regexp.MustCompile(`(?m)^SQLite (\d+\.\d+\.\d+) \(ok\)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("version output %q has no SQLite line", got)
	}
	if storage.VersionLess(m[1], storage.MinSQLiteVersion) {
		t.Errorf("SQLite %s is older than %s", m[1], storage.MinSQLiteVersion)
	}
	// It is the same SQLite the store runs on.
	st, err := storage.Open(context.Background(), storage.Config{SQLitePath: db, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v := st.ServerVersion(context.Background()); v != "SQLite "+m[1] {
		t.Errorf("the store runs %q, version printed %q", v, m[1])
	}
}

func TestVersionCreatesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "carevoice.db")
	if err := printVersion(io.Discard, []string{"--db", db}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(db)); !os.IsNotExist(err) {
		t.Errorf("version created %s (%v)", filepath.Dir(db), err)
	}
}

func TestSQLiteTooOldIsRefused(t *testing.T) {
	for _, v := range []string{"3.51.2", "3.50.4", "3.45.1", "2.8.17"} {
		err := storage.CheckSQLiteVersion(v)
		if err == nil {
			t.Errorf("SQLite %s accepted", v)
			continue
		}
		for _, want := range []string{"SQLite " + v + " is too old", "3.51.3 or later", "mattn/go-sqlite3 v1.14.49"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q lacks %q", err, want)
			}
		}
	}
	for _, v := range []string{"3.51.3", "3.51.10", "3.52.0", "4.0.0"} {
		if err := storage.CheckSQLiteVersion(v); err != nil {
			t.Errorf("SQLite %s refused: %v", v, err)
		}
	}
}

// lockedBuffer collects what serve prints while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs serve as `carevoice serve [--demo]` does, on a free port,
// and returns its base URL, what it printed, and a stop function that waits
// for the graceful shutdown.
func startServe(t *testing.T, c *config, demo *demoOptions) (string, *lockedBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, c, serveOptions{Demo: demo, Log: storagetest.Quiet, Out: out, Progress: io.Discard,
			Ready: func(addr string) { ready <- addr }})
	}()
	var base string
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	return base, out, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	}
}

func testConfig(t *testing.T) *config {
	c := &config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "data", "carevoice.db"), TZ: "UTC",
		MinCell: 10, AdminEmail: "admin@localhost"}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

var accountRE = regexp.MustCompile(`(?m)^\s+(\S+@localhost)\s+.*password: (\S+)$`)

// TestServeDemo starts the server as `serve --demo` does on an empty
// database: the admin and demo accounts are printed once and can sign in,
// demo data is there, a patient can fill the fft survey, and after a
// restart everything is kept and nothing is made twice.
func TestServeDemo(t *testing.T) {
	c := testConfig(t)
	base, out, stop := startServe(t, c, &demoOptions{Responses: 300, Months: 2})

	passwords := map[string]string{}
	for _, m := range accountRE.FindAllStringSubmatch(out.String(), -1) {
		passwords[m[1]] = m[2]
	}
	for _, email := range []string{"admin@localhost", "manager@localhost", "quality@localhost"} {
		if len(passwords[email]) < 16 {
			t.Fatalf("no generated password printed for %s in:\n%s", email, out.String())
		}
	}
	if !strings.Contains(out.String(), "manager of north,central") {
		t.Errorf("the manager's sites are not shown:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := func(email string) *http.Client {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar}
		body, _ := json.Marshal(map[string]string{"email": email, "password": passwords[email]})
		r, err := cl.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Fatalf("login %s: got %d", email, r.StatusCode)
		}
		return cl
	}
	login("admin@localhost")
	login("quality@localhost")
	mgr := login("manager@localhost")
	r, err := mgr.Get(base + "/api/v1/sites")
	if err != nil {
		t.Fatal(err)
	}
	var sites []struct{ Slug string }
	json.NewDecoder(r.Body).Decode(&sites)
	r.Body.Close()
	if len(sites) != 2 || sites[0].Slug != "central" || sites[1].Slug != "north" {
		t.Errorf("the demo manager sees sites %+v, want central and north", sites)
	}

	// A patient fills fft through the public link, as curl would.
	r, err = client.Get(base + "/f/fft?site=north")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	m := regexp.MustCompile(`name="id" value="([0-9a-f-]{36})"`).FindSubmatch(page)
	if r.StatusCode != 200 || m == nil {
		t.Fatalf("form: got %d %.300s", r.StatusCode, page)
	}
	r, err = client.PostForm(base+"/f/fft", url.Values{"id": {string(m[1])}, "site": {"north"}, "a.q1": {"1"}, "a.q2": {"Quick and kind"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !bytes.Contains(page, []byte("reads every comment")) {
		t.Fatalf("submit: got %d %.300s", r.StatusCode, page)
	}
	stop()
	ctx := context.Background()
	count := func() int64 {
		t.Helper()
		st, err := openStore(ctx, c, storagetest.Quiet)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.ResponseByID(ctx, string(m[1])); err != nil {
			t.Errorf("the patient's response: %v", err)
		}
		if n, err := st.CountUsers(ctx); err != nil || n != 3 {
			t.Errorf("got %d accounts (%v), want 3", n, err)
		}
		n, err := st.CountResponses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if before < 301 {
		t.Errorf("got %d responses, want the 300 demo ones and the patient's", before)
	}

	// Restart with --demo again: nothing new is made, nothing is lost.
	_, out2, stop2 := startServe(t, c, &demoOptions{Responses: 300, Months: 2})
	stop2()
	if strings.Contains(out2.String(), "password") {
		t.Errorf("a restart printed accounts again:\n%s", out2.String())
	}
	if after := count(); after != before {
		t.Errorf("got %d responses after a restart with --demo, want %d", after, before)
	}
}

// TestServeWithoutDemoMakesOnlyTheAdmin: plain `serve` makes the first admin
// (with the password from the environment when given) and no demo accounts.
func TestServeWithoutDemoMakesOnlyTheAdmin(t *testing.T) {
	c := testConfig(t)
	c.AdminPass = "a long enough passphrase for tests 42"
	base, out, stop := startServe(t, c, nil)
	r, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	stop()
	if r.StatusCode != 200 {
		t.Errorf("readyz: got %d", r.StatusCode)
	}
	if strings.Contains(out.String(), c.AdminPass) || strings.Contains(out.String(), "manager@localhost") {
		t.Errorf("printed:\n%s", out.String())
	}
	st, err := openStore(context.Background(), c, storagetest.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.CountUsers(context.Background()); n != 1 {
		t.Errorf("got %d accounts, want the admin only", n)
	}
	if n, _ := st.CountResponses(context.Background()); n != 0 {
		t.Errorf("got %d responses, want 0", n)
	}
}

// TestConfigEnvErrors: a bad value in one of the tuning variables stops the
// start with a message that names it; a good one is taken.
func TestConfigEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		ok         bool
		delay      time.Duration // for CAREVOICE_COMMIT_DELAY
	}{
		{"CAREVOICE_COMMIT_DELAY", "5ms", true, 5 * time.Millisecond},
		{"CAREVOICE_COMMIT_DELAY", "0", true, 0},
		{"CAREVOICE_COMMIT_DELAY", "soon", false, 0},
		{"CAREVOICE_COMMIT_DELAY", "-1ms", false, 0},
		{"CAREVOICE_COMMIT_DELAY", "2s", false, 0},
		{"CAREVOICE_MIN_CELL", "0", false, 0},
		{"CAREVOICE_KIOSK_IDLE", "5ms", false, 0},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			c := &config{TZ: "UTC", MinCell: 10}
			err := c.validate()
			if tc.ok != (err == nil) {
				t.Fatalf("validate: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.env) {
				t.Errorf("error %q does not name %s", err, tc.env)
			}
			if tc.ok && c.CommitDelay != tc.delay {
				t.Errorf("commit delay %v", c.CommitDelay)
			}
		})
	}
}
