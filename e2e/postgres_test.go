package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// pgEnv is the environment of an instance on the PostgreSQL database dbURL;
// instances of one clinic share the secret key.
func pgEnv(t *testing.T, dbURL, key string) env {
	return env{"DATABASE_URL": dbURL, "CAREVOICE_DB": filepath.Join(t.TempDir(), "carevoice.db"),
		"CAREVOICE_SECRET_KEY": key, "CAREVOICE_ADMIN_PASSWORD": adminPassword,
		"CAREVOICE_RATE_LIMIT_IP": "10000/m"} // the races below all come from 127.0.0.1
}

func fftBody(id string, extra map[string]any) map[string]any {
	b := map[string]any{"id": id, "survey": "fft", "site": "main", "channel": "link",
		"answers": []map[string]any{{"question": "q1", "value": 1}, {"question": "q2", "value": "Kind nurse, short wait."}}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestTwoInstancesOnePostgres runs two server processes against one
// PostgreSQL database, as a clinic group scaling out would, and checks that
// what must be global is: single-use invitations, idempotent retries,
// sessions and tokens, and that a load spread over both loses nothing.
func TestTwoInstancesOnePostgres(t *testing.T) {
	skipShort(t)
	dbURL := storagetest.PostgresURL(t)
	keyBytes := secure.GenerateKey()
	key := secure.EncodeKey(keyBytes)
	a := start(t, pgEnv(t, dbURL, key))
	b := start(t, pgEnv(t, dbURL, key)) // after a: the first admin is created once
	token := mintToken(t, storage.Config{DatabaseURL: dbURL})

	t.Run("TokenOnBoth", func(t *testing.T) {
		for _, s := range []*server{a, b} {
			if st, body := call(t, "GET", s.URL+"/api/v1/sites", token, nil); st != 200 {
				t.Errorf("%s: GET /api/v1/sites with token: %d %s", s.URL, st, body)
			}
		}
	})

	t.Run("SessionOnBoth", func(t *testing.T) {
		cookie := login(t, a.URL)
		if st, _ := callCookie(t, "GET", b.URL+"/api/v1/sites", cookie, ""); st != 200 {
			t.Fatalf("session from instance A on B: status %d, want 200", st)
		}
		kr, err := secure.NewKeyring(keyBytes)
		if err != nil {
			t.Fatal(err)
		}
		if st, body := callCookie(t, "POST", b.URL+"/api/v1/auth/logout", cookie, kr.CSRFToken(secure.HashToken(cookie))); st != 204 {
			t.Fatalf("logout on B: %d %s", st, body)
		}
		if st, _ := callCookie(t, "GET", a.URL+"/api/v1/sites", cookie, ""); st != 401 {
			t.Errorf("session signed out on B still works on A: status %d, want 401", st)
		}
	})

	t.Run("InvitationSingleUse", func(t *testing.T) {
		inv := invite(t, a.URL, token)
		id1 := uuid.NewString()
		body := fftBody(id1, map[string]any{"channel": "invite", "token": inv})
		if st, resp := call(t, "POST", a.URL+"/api/v1/responses", "", body); st != 201 {
			t.Fatalf("invitation on A: %d %s", st, resp)
		}
		if st, resp := call(t, "POST", b.URL+"/api/v1/responses", "", fftBody(uuid.NewString(), map[string]any{"channel": "invite", "token": inv})); st != 410 {
			t.Errorf("invitation used on A, again on B: %d %s, want 410", st, resp)
		}
		if st, resp := call(t, "POST", b.URL+"/api/v1/responses", "", body); st != 200 {
			t.Errorf("identical retry of the invited response on B: %d %s, want 200", st, resp)
		}
		// Both instances at the same moment: exactly one wins.
		for round := 0; round < 5; round++ {
			inv := invite(t, a.URL, token)
			got := raceBoth(t, a, b, func() map[string]any {
				return fftBody(uuid.NewString(), map[string]any{"channel": "invite", "token": inv})
			})
			if got[201] != 1 || got[410] != 1 {
				t.Errorf("one invitation sent to both instances at once: statuses %v, want one 201 and one 410", got)
			}
		}
	})

	t.Run("IdempotentRetryAcrossInstances", func(t *testing.T) {
		for round := 0; round < 5; round++ {
			body := fftBody(uuid.NewString(), nil)
			got := raceBoth(t, a, b, func() map[string]any { return body })
			if got[201] != 1 || got[200] != 1 {
				t.Errorf("one response sent to both instances at once: statuses %v, want one 201 and one 200", got)
			}
			st := openStore(t, storage.Config{DatabaseURL: dbURL})
			n, err := st.CountResponseIDs(context.Background(), []string{body["id"].(string)})
			if err != nil || n[body["id"].(string)] != 1 {
				t.Errorf("stored %v times (%v), want once", n, err)
			}
		}
		other := fftBody(uuid.NewString(), nil)
		call(t, "POST", a.URL+"/api/v1/responses", "", other)
		other["answers"] = []map[string]any{{"question": "q1", "value": 5}}
		if st, resp := call(t, "POST", b.URL+"/api/v1/responses", "", other); st != 409 {
			t.Errorf("same id, different answers, on the other instance: %d %s, want 409", st, resp)
		}
	})

	t.Run("LoadAcrossBoth", func(t *testing.T) {
		d := drive(t, []string{a.URL, b.URL}, token, 16)
		d.waitAcks(t, 1000)
		rep := d.stop(t)
		if rep.Duplicates != 0 {
			t.Errorf("%d identical retries were stored twice", rep.Duplicates)
		}
		requireStored(t, openStore(t, storage.Config{DatabaseURL: dbURL}), rep.Acked)
	})
}

func invite(t *testing.T, base, token string) string {
	t.Helper()
	st, body := call(t, "POST", base+"/api/v1/invitations", token, map[string]any{"survey": "fft", "site": "main", "count": 1})
	if st != 200 && st != 201 {
		t.Fatalf("create invitation: %d %s", st, body)
	}
	var out struct {
		Invitations []struct {
			Token string `json:"token"`
		} `json:"invitations"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Invitations) != 1 {
		t.Fatalf("create invitation: %s (%v)", body, err)
	}
	return out.Invitations[0].Token
}

// raceBoth posts one body to each instance at the same moment and counts
// the statuses.
func raceBoth(t *testing.T, a, b *server, body func() map[string]any) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	startGun := make(chan struct{})
	for _, s := range []*server{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGun
			st, _ := call(t, "POST", s.URL+"/api/v1/responses", "", body())
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	close(startGun)
	wg.Wait()
	return got
}

func login(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/login",
		strings.NewReader(fmt.Sprintf(`{"email":"admin@localhost","password":%q}`, adminPassword)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "cv_session" {
			return c.Value
		}
	}
	t.Fatal("login: no session cookie")
	return ""
}

func callCookie(t *testing.T, method, u, cookie, csrf string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.AddCookie(&http.Cookie{Name: "cv_session", Value: cookie})
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReadyzFollowsPostgres cuts the network path to PostgreSQL (a proxy in
// between) and checks that /readyz says so, and recovers when it returns,
// while /healthz (the process is alive) stays 200.
func TestReadyzFollowsPostgres(t *testing.T) {
	skipShort(t)
	dbURL := storagetest.PostgresURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if !strings.Contains(target, ":") {
		target += ":5432"
	}
	p := &proxy{target: target, addr: freeAddr(t)}
	p.up(t)
	t.Cleanup(p.down)
	u.Host = p.addr
	srv := start(t, pgEnv(t, u.String(), secure.EncodeKey(secure.GenerateKey())))

	waitStatus(t, srv.URL+"/readyz", 200)
	// A kiosk key and a bearer token the server has not cached, made while
	// the database is there, to show below while it is away.
	admin := mintToken(t, storage.Config{DatabaseURL: dbURL})
	st, body := call(t, "POST", srv.URL+"/api/v1/devices", admin, map[string]any{"site": "main", "name": "waiting room"})
	var dev struct{ Key string }
	if err := json.Unmarshal([]byte(body), &dev); st != 201 || err != nil || dev.Key == "" {
		t.Fatalf("create device: %d %s", st, body)
	}
	fresh := mintToken(t, storage.Config{DatabaseURL: dbURL})
	p.down()
	waitStatus(t, srv.URL+"/readyz", 503)
	// A credential that cannot be checked is not a bad one: 503, which a
	// client retries, rather than 401, on which a kiosk app would drop its
	// queued answers or an integration its token.
	for _, c := range []struct {
		name, method, path, bearer string
		body                       any
		hdr                        []string
	}{
		{"kiosk key", "POST", "/api/v1/responses", "", fftBody(uuid.NewString(), map[string]any{"channel": "kiosk"}), []string{"X-Kiosk-Key", dev.Key}},
		{"bearer token", "GET", "/api/v1/sites", fresh, nil, nil},
	} {
		if st, body := call(t, c.method, srv.URL+c.path, c.bearer, c.body, c.hdr...); st != 503 {
			t.Errorf("%s while the database is away: %d %s, want 503", c.name, st, body)
		}
	}
	if st, _ := call(t, "GET", srv.URL+"/healthz", "", nil); st != 200 {
		t.Errorf("healthz while the database is away: %d, want 200", st)
	}
	// The public rate limit's shared bucket is away too: the limiter falls
	// back to this instance's memory and the request meets the database as
	// it would without a limit: 503 with Retry-After (try again later, as a
	// kiosk's queue does), not a 429 that blames the client nor a 500.
	payload, _ := json.Marshal(fftBody(uuid.NewString(), nil))
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/responses", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("submission while the database is away: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("submission while the database is away: %d (Retry-After %q) %s, want 503 with Retry-After",
				resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	p.up(t)
	waitStatus(t, srv.URL+"/readyz", 200)
	if st, body := call(t, "POST", srv.URL+"/api/v1/responses", "", fftBody(uuid.NewString(), nil)); st != 201 {
		t.Errorf("submission after the database came back: %d %s", st, body)
	}
}

func waitStatus(t *testing.T, u string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := 0
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			last = resp.StatusCode
			resp.Body.Close()
			if last == want {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: still %d after 30s, want %d", u, last, want)
}

// proxy forwards TCP to target; down closes the listener and every
// connection, as a network failure would.
type proxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func (p *proxy) up(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger a moment after down
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.conns = ln, map[net.Conn]bool{}
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.conns == nil {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestRateLimitAcrossInstances sends one kiosk's submissions, and one
// address's, alternately to two instances on one PostgreSQL database: the
// limit (3 a minute) holds for the clinic, not for each instance.
func TestRateLimitAcrossInstances(t *testing.T) {
	skipShort(t)
	dbURL := storagetest.PostgresURL(t)
	key := secure.EncodeKey(secure.GenerateKey())
	limited := func() env {
		e := pgEnv(t, dbURL, key)
		e["CAREVOICE_RATE_LIMIT_IP"], e["CAREVOICE_RATE_LIMIT_KIOSK"] = "3/m", "3/m"
		return e
	}
	a := start(t, limited())
	b := start(t, limited())
	token := mintToken(t, storage.Config{DatabaseURL: dbURL})
	kiosk := func() string {
		st, body := call(t, "POST", a.URL+"/api/v1/devices", token, map[string]any{"site": "main", "name": "waiting room"})
		var d struct{ Key string }
		if err := json.Unmarshal([]byte(body), &d); st != 201 || err != nil || d.Key == "" {
			t.Fatalf("create device: %d %s", st, body)
		}
		return d.Key
	}
	k1, k2 := kiosk(), kiosk()

	for _, c := range []struct {
		name    string
		channel string
		hdr     []string
	}{
		{"Kiosk", "kiosk", []string{"X-Kiosk-Key", k1}},
		{"Address", "link", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i, want := range []int{201, 201, 201, 429, 429} {
				s := []*server{a, b}[i%2]
				st, retry, body := post(t, s.URL+"/api/v1/responses", fftBody(uuid.NewString(), map[string]any{"channel": c.channel}), c.hdr...)
				if st != want {
					t.Fatalf("request %d on instance %s: %d %s, want %d", i+1, s.URL, st, body, want)
				}
				if st == 429 {
					if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 20 {
						t.Errorf("request %d: Retry-After %q, want 1..20 s (a token every 20 s)", i+1, retry)
					}
				}
			}
		})
	}
	t.Run("OtherKioskAndStaff", func(t *testing.T) {
		if st, _, body := post(t, b.URL+"/api/v1/responses", fftBody(uuid.NewString(), map[string]any{"channel": "kiosk"}), "X-Kiosk-Key", k2); st != 201 {
			t.Errorf("another kiosk after the first was limited: %d %s, want 201", st, body)
		}
		for i := 0; i < 8; i++ {
			s := []*server{a, b}[i%2]
			if st, _ := call(t, "POST", s.URL+"/api/v1/responses", token, fftBody(uuid.NewString(), nil)); st != 201 {
				t.Fatalf("admin token submission %d: %d, want 201 (staff are exempt)", i+1, st)
			}
		}
	})
}

// post sends a JSON body and returns the status, the Retry-After header and
// the body.
func post(t *testing.T, u string, body any, hdr ...string) (int, string, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(rb)
}
