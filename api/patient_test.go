package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// fileEnv runs the app on an SQLite file the test knows, so that it can read
// the raw bytes and reopen it.
func fileEnv(t *testing.T) (*apitest.Env, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "carevoice.db")
	st := openFile(t, path)
	t.Cleanup(func() { st.Close() })
	return apitest.NewWith(t, apitest.Options{Store: st}), path
}

func openFile(t *testing.T, path string) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), storage.Config{SQLitePath: path, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(context.Background(), "UTC"); err != nil {
		t.Fatal(err)
	}
	return st
}

// rawDB opens the SQLite file read-only, beside the app, to look at rows as
// they are on disk.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fileBytes is the database as stored: the main file and its WAL.
func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

var formIDRE = regexp.MustCompile(`name="id" value="([0-9a-f-]{36})"`)

// formID returns the response id a rendered form carries.
func formID(t *testing.T, r *apitest.Response) string {
	t.Helper()
	m := formIDRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no response id in the form: %.400s", r.Body)
	}
	return m[1]
}

func want(t *testing.T, r *apitest.Response, status int, fragments ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("got %d, want %d: %.600s", r.StatusCode, status, r.Body)
	}
	for _, f := range fragments {
		if !strings.Contains(r.Body, f) {
			t.Errorf("page lacks %q: %.800s", f, r.Body)
		}
	}
}

type storedResponse struct {
	ID, Survey, Site, Department, Provider, Channel, Lang string
	ContactRequested                                      bool `json:"contact_requested"`
	Answers                                               []struct {
		Question string
		Value    any
	}
}

func stored(t *testing.T, e *apitest.Env, id string) storedResponse {
	t.Helper()
	r := e.Token("quality").Get("/api/v1/responses/" + id)
	if r.StatusCode != 200 {
		t.Fatalf("stored response %s: got %d %s", id, r.StatusCode, r.Body)
	}
	var out storedResponse
	r.Decode(t, &out)
	return out
}

// TestLinkFlow fills /f/fft?site=… as a browser does: GET the form, POST it
// form-encoded, get the thank-you page; a double submit stores once.
func TestLinkFlow(t *testing.T) {
	e := apitest.New(t)
	form := e.Anon().Get("/f/fft?site=main&dept=general")
	want(t, form, 200, `action="/f/fft"`, `name="site" value="main"`, `name="department" value="general"`, "Very good", "Don&#39;t know")
	if cc := form.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("form Cache-Control %q, want no-store", cc)
	}
	id := formID(t, form)
	v := url.Values{"id": {id}, "lang": {"en"}, "site": {"main"}, "department": {"general"},
		"a.q1": {"2"}, "a.q2": {"The nurse explained everything"}, "a.q3": {""}}
	thanks := e.Anon().Form("/f/fft", v)
	want(t, thanks, 200, "A member of our team reads every comment", `href="/f/fft?dept=general&amp;site=main"`)
	if strings.Contains(thanks.Body, "within 2 working days") {
		t.Error("thank-you page promises a call-back nobody asked for")
	}
	// Pressing Send twice, or the browser re-posting, stores one response.
	want(t, e.Anon().Form("/f/fft", v), 200, "A member of our team reads every comment")
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses, want 1", n)
	}
	got := stored(t, e, id)
	if got.Channel != "link" || got.Site != "main" || got.Department != "general" || got.Lang != "en" || len(got.Answers) != 2 {
		t.Errorf("stored %+v, want channel link at main/general with 2 answers", got)
	}
	// A fresh form gets a fresh id.
	if formID(t, e.Anon().Get("/f/fft?site=main")) == id {
		t.Error("two forms carry the same response id")
	}
}

// TestFormErrorsKeepAnswers posts an incomplete form: the page comes back
// with what was typed, the problem marked for screen readers, and nothing
// stored; fixed and sent again with the same id, it is stored once.
func TestFormErrorsKeepAnswers(t *testing.T) {
	e := apitest.New(t)
	id := formID(t, e.Anon().Get("/f/fft?site=main"))
	v := url.Values{"id": {id}, "lang": {"en"}, "site": {"main"}, "a.q2": {"Kind <b>staff</b>"},
		"contact_ok": {"1"}, "contact_phone": {"call me maybe"}}
	r := e.Anon().Form("/f/fft", v)
	want(t, r, 400, `role="alert"`, "Please answer this question.", `href="#q-q1"`, `id="e-q1"`, `name="id" value="`+id+`"`,
		"Kind &lt;b&gt;staff&lt;/b&gt;</textarea>", "Please check the phone number", `value="call me maybe" aria-invalid="true"`)
	if n := regexp.MustCompile(`name="a\.q1" value="[1-5]" required aria-invalid="true"`).FindAllString(r.Body, -1); len(n) != 5 {
		t.Errorf("got %d rating buttons marked aria-invalid, want 5", len(n))
	}
	if !strings.Contains(r.Body, `id="a-q1-0" name="a.q1" value="0" aria-invalid="true"`) {
		t.Error(`the "don't know" button is not marked aria-invalid`)
	}
	if n := count(t, e); n != 0 {
		t.Fatalf("an invalid form stored %d responses", n)
	}
	// Raw invalid UTF-8 from a browser: refused, and the page shown again
	// is still valid UTF-8.
	r = e.Anon().Do("POST", "/f/fft", strings.NewReader("id="+id+"&site=main&a.q1=1&a.q2=caf%E9&contact_name=Ren%E9"), "application/x-www-form-urlencoded")
	want(t, r, 400, `aria-invalid="true">caf`+"\uFFFD"+`</textarea>`, `value="Ren`+"\uFFFD"+`"`)
	if !utf8.ValidString(r.Body) {
		t.Error("the page shown again is not valid UTF-8")
	}
	if n := count(t, e); n != 0 {
		t.Fatalf("invalid UTF-8 stored %d responses", n)
	}
	// Unchosen radio buttons keep nothing checked; a chosen one stays checked.
	v.Set("a.q1", "9")
	r = e.Anon().Form("/f/fft", v)
	want(t, r, 400, `id="e-q1"`, "Please check this answer.")
	v.Set("a.q1", "1")
	v.Del("contact_phone")
	v.Set("contact_email", "ann@example.org")
	want(t, e.Anon().Form("/f/fft", v), 200, "within 2 working days")
	want(t, e.Anon().Form("/f/fft", v), 200, "Thank you")
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses, want 1", n)
	}
}

func TestPatientPagesNotFound(t *testing.T) {
	e := apitest.New(t)
	for _, path := range []string{"/f/fft?site=nowhere", "/f/fft", "/f/nope?site=main", "/suggest/nowhere", "/kiosk/not-a-key", "/f/FFT%20x?site=main"} {
		t.Run(path, func(t *testing.T) {
			r := e.Anon().Get(path)
			want(t, r, 404, "We could not find that page.", `<html lang="en">`)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("got Content-Type %q, want a page", ct)
			}
			checkPatientPage(t, r)
		})
	}
	// Posting to an unknown site stores nothing and says so kindly.
	r := e.Anon().Form("/f/fft", url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a09"}, "site": {"nowhere"}, "a.q1": {"1"}})
	want(t, r, 404, "We could not find that page.")
	if n := count(t, e); n != 0 {
		t.Errorf("got %d responses, want 0", n)
	}
}

// TestInvitationFlow: a manager makes an invitation for their site, the
// link works once, then says it was used; another site's manager gets 403.
func TestInvitationFlow(t *testing.T) {
	e := apitest.New(t)
	if err := e.Store.UpsertSite(context.Background(), siteOther); err != nil {
		t.Fatal(err)
	}
	mgr := e.Login("manager", "main")
	body := map[string]any{"survey": "fft", "site": "main", "department": "general", "visit_date": "2026-03-02", "count": 1, "expires_in_hours": 72}

	other := e.Login("manager", "other")
	if r := other.JSON("POST", "/api/v1/invitations", body); r.StatusCode != 403 {
		t.Errorf("manager of another site: got %d %s, want 403", r.StatusCode, r.Body)
	}
	// Even with a body that is wrong: field messages would describe main.
	if r := other.JSON("POST", "/api/v1/invitations", map[string]any{"survey": "fft", "site": "main", "department": "nope"}); r.StatusCode != 403 {
		t.Errorf("manager of another site, bad department: got %d %s, want 403", r.StatusCode, r.Body)
	}
	noCSRF := *mgr
	noCSRF.CSRF = ""
	if r := noCSRF.JSON("POST", "/api/v1/invitations", body); r.StatusCode != 403 {
		t.Errorf("without the CSRF token: got %d %s, want 403", r.StatusCode, r.Body)
	}
	if r := e.Login("quality").JSON("POST", "/api/v1/invitations", body); r.StatusCode != 403 {
		t.Errorf("quality role: got %d, want 403", r.StatusCode)
	}
	if r := e.Anon().JSON("POST", "/api/v1/invitations", body); r.StatusCode != 401 {
		t.Errorf("anonymous: got %d, want 401", r.StatusCode)
	}

	token := invite(t, e, mgr, body)
	path := "/s/" + token
	form := e.Anon().Get(path)
	want(t, form, 200, `action="`+path+`"`, "Tell us about your visit")
	if strings.Contains(form.Body, `name="site"`) {
		t.Error("the invitation form carries the site in a field the patient could change")
	}
	id := formID(t, form)
	v := url.Values{"id": {id}, "lang": {"en"}, "a.q1": {"1"}, "a.q3": {"Nothing, it was perfect"}}
	want(t, e.Anon().Form(path, v), 200, "A member of our team reads every comment")

	got := stored(t, e, id)
	if got.Channel != "invite" || got.Site != "main" || got.Department != "general" {
		t.Errorf("stored %+v, want channel invite at main/general", got)
	}
	// Used: the link and a second post both say so, kindly.
	want(t, e.Anon().Get(path), 410, "This link has already been used", "we already have your answers")
	v.Set("id", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a02")
	want(t, e.Anon().Form(path, v), 410, "This link has already been used")
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses, want 1", n)
	}

	// Expired: the clock moves past the expiry.
	expiring := invite(t, e, mgr, map[string]any{"survey": "fft", "site": "main", "expires_in_hours": 1})
	want(t, e.Anon().Get("/s/"+expiring), 200)
	e.Now = time.Now().Add(61 * time.Minute)
	want(t, e.Anon().Get("/s/"+expiring), 410, "This link has expired")
	want(t, e.Anon().Form("/s/"+expiring, url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a03"}, "a.q1": {"1"}}), 410, "This link has expired")
	e.Now = time.Time{}
	want(t, e.Anon().Get("/s/not-a-token"), 404, "We could not find this link")
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses, want 1", n)
	}
}

// TestKioskFlow: an admin registers a tablet, it shows the form, a submit is
// stored with the device, then the key is revoked.
func TestKioskFlow(t *testing.T) {
	e, path := fileEnv(t)
	admin := e.Token("admin")
	if r := e.Login("manager", "main").JSON("POST", "/api/v1/devices", map[string]string{"site": "main", "name": "Lobby"}); r.StatusCode != 403 {
		t.Errorf("a manager registering a kiosk: got %d, want 403", r.StatusCode)
	}
	if r := admin.JSON("POST", "/api/v1/devices", map[string]string{"site": "nowhere", "name": "Lobby"}); r.StatusCode != 400 || !strings.Contains(r.Body, "unknown site") {
		t.Errorf("unknown site: got %d %s, want 400", r.StatusCode, r.Body)
	}
	r := admin.JSON("POST", "/api/v1/devices", map[string]string{"site": "main", "name": "Lobby tablet"})
	if r.StatusCode != 201 {
		t.Fatalf("register kiosk: got %d %s", r.StatusCode, r.Body)
	}
	var dev struct{ ID, Key, URL string }
	r.Decode(t, &dev)
	if len(dev.Key) < 22 || !strings.HasSuffix(dev.URL, "/kiosk/"+dev.Key) {
		t.Fatalf("device: got %+v", dev)
	}
	kpath := "/kiosk/" + dev.Key
	form := e.Anon().Get(kpath)
	want(t, form, 200, `data-kiosk="1"`, `data-idle="90"`, `class="kiosk"`, "js/kiosk.js")
	if strings.Contains(form.Body, `name="site"`) {
		t.Error("the kiosk form carries the site in a field")
	}
	if len(form.Cookies) > 0 {
		t.Errorf("the kiosk sets cookies: %v", form.Cookies)
	}
	id := formID(t, form)
	comment := "Waited forty minutes past my appointment time"
	thanks := e.Anon().Form(kpath, url.Values{"id": {id}, "lang": {"en"}, "a.q1": {"4"}, "a.q3": {comment}})
	want(t, thanks, 200, "Thank you", `http-equiv="refresh" content="10;url=`+kpath+`"`, "reset for the next person")
	// Nothing of the last patient stays behind: no cookie, no answer on the
	// page, never cached.
	if strings.Contains(thanks.Body, comment) || len(thanks.Cookies) > 0 || !strings.Contains(thanks.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("the thank-you page keeps the patient's answers (cookies %v, Cache-Control %q)", thanks.Cookies, thanks.Header.Get("Cache-Control"))
	}
	fresh := e.Anon().Get(kpath)
	if formID(t, fresh) == id || strings.Contains(fresh.Body, comment) || strings.Contains(fresh.Body, "checked") {
		t.Error("the next form is not fresh")
	}
	got := stored(t, e, id)
	if got.Channel != "kiosk" || got.Site != "main" {
		t.Errorf("stored %+v, want channel kiosk at main", got)
	}
	var device string
	if err := rawDB(t, path).QueryRow("SELECT device_id FROM responses WHERE id = ?", id).Scan(&device); err != nil || device != dev.ID {
		t.Errorf("device_id = %q (%v), want %q", device, err, dev.ID)
	}
	var read struct {
		DeviceID string `json:"device_id"`
	}
	e.Token("quality").Get("/api/v1/responses/"+id).Decode(t, &read)
	if read.DeviceID != dev.ID {
		t.Errorf("GET /responses/{id}: device_id = %q, want %q", read.DeviceID, dev.ID)
	}
	// Idle reset: the script sends the tablet here; the page is empty and says why.
	want(t, e.Anon().Get(kpath+"?reset=1"), 200, "The form was cleared because nobody used it for a while.")

	if r := e.Login("manager", "main").Do("DELETE", "/api/v1/devices/"+dev.ID, nil, ""); r.StatusCode != 403 {
		t.Errorf("a manager revoking a kiosk: got %d, want 403", r.StatusCode)
	}
	if r := admin.Do("DELETE", "/api/v1/devices/"+dev.ID, nil, ""); r.StatusCode != 204 {
		t.Fatalf("revoke: got %d %s", r.StatusCode, r.Body)
	}
	want(t, e.Anon().Get(kpath), 404, "We could not find that page.")
	want(t, e.Anon().Form(kpath, url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a04"}, "a.q1": {"1"}}), 404)
	k := e.Anon()
	k.Kiosk = dev.Key
	if r := k.JSON("POST", "/api/v1/responses", sub("0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a05", "fft", "main", "q1", 1)); r.StatusCode != 401 {
		t.Errorf("revoked key on the API: got %d, want 401", r.StatusCode)
	}
	if r := admin.Do("DELETE", "/api/v1/devices/"+dev.ID, nil, ""); r.StatusCode != 404 {
		t.Errorf("revoking twice: got %d, want 404", r.StatusCode)
	}
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses, want 1", n)
	}
}

// TestSuggestionBoxContact: the suggestion box takes one text, an optional
// category and contact details; the contact is sealed, apart from the
// answers, and the file on disk never holds the phone number; no IP address
// or user agent is stored.
func TestSuggestionBoxContact(t *testing.T) {
	e, path := fileEnv(t)
	form := e.Anon().Get("/suggest/main")
	want(t, form, 200, "Suggestion box", "What is it about?", "Building and facilities", "anonymous unless you choose")
	id := formID(t, form)

	// Optional category and contact left out: still accepted.
	plain := formID(t, e.Anon().Get("/suggest/main"))
	r := e.Anon().Form("/suggest/main", url.Values{"id": {plain}, "a.q1": {"More chairs in the waiting room please"}})
	want(t, r, 200, "A member of our team reads every comment")
	if strings.Contains(r.Body, "within 2 working days") {
		t.Error("promised a call-back without contact details")
	}

	const phone = "+1 (555) 014-2299"
	const agent = "CareVoiceTestBrowser/7.7 unique-agent-string"
	const ip = "203.0.113.77"
	c := e.Anon()
	c.Header = map[string][]string{"User-Agent": {agent}, "X-Forwarded-For": {ip}, "X-Real-Ip": {ip}}
	r = c.Form("/suggest/main", url.Values{"id": {id}, "lang": {"en"}, "a.q1": {"The toilets on floor 2 were dirty"}, "a.q2": {"building"},
		"contact_ok": {"1"}, "contact_name": {"Rosa Díaz"}, "contact_phone": {phone}})
	want(t, r, 200, "we will contact you within 2 working days")

	got := stored(t, e, id)
	if got.Channel != "suggestion" || !got.ContactRequested || len(got.Answers) != 2 || got.Answers[1].Value != "building" {
		t.Errorf("stored %+v, want channel suggestion, contact requested, category building", got)
	}
	db := rawDB(t, path)
	var sealed []byte
	if err := db.QueryRow("SELECT c.sealed FROM contacts c JOIN responses r ON r.seq = c.response_seq WHERE r.id = ?", id).Scan(&sealed); err != nil {
		t.Fatalf("contact row: %v", err)
	}
	plainContact, err := e.Keys.Open(sealed, []byte(id))
	if err != nil || !strings.Contains(string(plainContact), "555") {
		t.Errorf("the sealed contact does not open with the key: %v", err)
	}
	var n int
	db.QueryRow("SELECT COUNT(*) FROM contacts").Scan(&n)
	if n != 1 {
		t.Errorf("got %d contact rows, want 1 (the plain suggestion asked for none)", n)
	}
	raw := fileBytes(t, path)
	if !bytes.Contains(raw, []byte("The toilets on floor 2 were dirty")) {
		t.Fatal("the comment is not in the file: the raw check below would prove nothing")
	}
	for _, secret := range []string{phone, "555) 014-2299", "5550142299", "Rosa D", agent, "unique-agent-string", ip} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the database file holds %q in the clear", secret)
		}
	}
	// No column could hold them either.
	rows, err := db.Query("SELECT * FROM responses LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	rows.Close()
	for _, c := range cols {
		if l := strings.ToLower(c); strings.Contains(l, "ip") && l != "ip_free" || strings.Contains(l, "agent") || strings.Contains(l, "addr") {
			t.Errorf("responses has a column %q that could identify the patient's device", c)
		}
	}
}

// TestSpanish: lang=es and Accept-Language pick Spanish, the response keeps
// its language, and the JSON API takes lang too.
func TestSpanish(t *testing.T) {
	e := apitest.New(t)
	for name, c := range map[string]struct{ path, accept string }{
		"query":           {"/f/fft?site=main&lang=es", ""},
		"accept-language": {"/f/fft?site=main", "es-MX,es;q=0.9,en;q=0.5"},
		"suggest":         {"/suggest/main", "es"},
	} {
		t.Run(name, func(t *testing.T) {
			cl := e.Anon()
			if c.accept != "" {
				cl.Header = map[string][]string{"Accept-Language": {c.accept}}
			}
			r := cl.Get(c.path)
			want(t, r, 200, `<html lang="es">`, `name="lang" value="es"`, "Enviar")
		})
	}
	r := e.Anon().Get("/f/fft?site=main&lang=es")
	want(t, r, 200, "Cuéntenos sobre su visita", "Muy buena")
	// The switch leads to the same form in English, keeping the site.
	want(t, r, 200, `href="/f/fft?lang=en&amp;site=main"`)
	// English wins when asked for, whatever the browser prefers.
	en := e.Anon()
	en.Header = map[string][]string{"Accept-Language": {"es"}}
	want(t, en.Get("/f/fft?site=main&lang=en"), 200, `<html lang="en">`)

	id := formID(t, r)
	thanks := e.Anon().Form("/f/fft", url.Values{"id": {id}, "lang": {"es"}, "site": {"main"}, "a.q1": {"1"}, "a.q2": {"La enfermera fue muy amable"}})
	want(t, thanks, 200, "Gracias", "lee cada comentario")
	if got := stored(t, e, id); got.Lang != "es" {
		t.Errorf("stored lang %q, want es", got.Lang)
	}
	b := sub("0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a06", "nps", "main", "q1", 10, "q2", "Muy buen trato")
	b["lang"] = "es"
	if r := e.Anon().JSON("POST", "/api/v1/responses", b); r.StatusCode != 201 {
		t.Fatalf("API in Spanish: %d %s", r.StatusCode, r.Body)
	}
	if got := stored(t, e, "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a06"); got.Lang != "es" {
		t.Errorf("API: stored lang %q, want es", got.Lang)
	}
}

var (
	externalRE = regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//`)
	inputRE    = regexp.MustCompile(`<(input|textarea|select)\b[^>]*>`)
	typeRE     = regexp.MustCompile(`\btype="([a-z]+)"`)
	idRE       = regexp.MustCompile(`\bid="([^"]+)"`)
)

// checkPatientPage asserts what every patient page promises: no external
// resources, never cached, every input labelled.
func checkPatientPage(t *testing.T, r *apitest.Response) {
	t.Helper()
	if m := externalRE.FindString(r.Body); m != "" {
		t.Errorf("page loads an external resource: %s", m)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, in := range inputRE.FindAllString(r.Body, -1) {
		if m := typeRE.FindStringSubmatch(in); m != nil && (m[1] == "hidden" || m[1] == "submit") {
			continue
		}
		id := idRE.FindStringSubmatch(in)
		if id == nil {
			t.Errorf("input without an id, so without a label: %s", in)
			continue
		}
		if !strings.Contains(r.Body, `<label for="`+id[1]+`"`) && !strings.Contains(r.Body, `for="`+id[1]+`"`) {
			t.Errorf("input %q has no label", id[1])
		}
	}
}

func TestPatientPagesPromises(t *testing.T) {
	e := apitest.New(t)
	k, _ := e.Device("main")
	token := invite(t, e, e.Token("admin"), map[string]any{"survey": "nps", "site": "main"})
	pages := map[string]string{
		"link fft": "/f/fft?site=main", "link nps es": "/f/nps?site=main&lang=es", "suggestion": "/suggest/main",
		"invitation": "/s/" + token, "kiosk": "/kiosk/" + k.Kiosk, "kiosk nps": "/kiosk/" + k.Kiosk + "?survey=nps",
	}
	for name, path := range pages {
		t.Run(name, func(t *testing.T) {
			r := e.Anon().Get(path)
			want(t, r, 200, `<form method="post"`)
			checkPatientPage(t, r)
			if !strings.Contains(r.Body, "<label") {
				t.Error("no labels at all")
			}
			if len(r.Cookies) > 0 {
				t.Errorf("a patient page sets cookies: %v", r.Cookies)
			}
		})
	}
	// The pages after a post keep the same promises.
	r := e.Anon().Form("/f/fft", url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a07"}, "site": {"main"}})
	want(t, r, 400)
	checkPatientPage(t, r)
	r = e.Anon().Form("/f/fft", url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a07"}, "site": {"main"}, "a.q1": {"2"}})
	want(t, r, 200, "Thank you")
	checkPatientPage(t, r)
	r = e.Anon().Form("/s/"+token, url.Values{"id": {"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a08"}, "a.q1": {"10"}})
	want(t, r, 200)
	r = e.Anon().Get("/s/" + token)
	want(t, r, 410)
	checkPatientPage(t, r)
}

// TestRestartKeepsResponses closes the store and reopens the same file:
// every response is still there and no migration runs again.
func TestRestartKeepsResponses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carevoice.db")
	st := openFile(t, path)
	e := apitest.NewWith(t, apitest.Options{Store: st})
	var ids []string
	for i := range 5 {
		id := "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0b0" + string(rune('0'+i))
		ids = append(ids, id)
		if r := e.Anon().JSON("POST", "/api/v1/responses", sub(id, "fft", "main", "q1", i, "q2", "Fine")); r.StatusCode != 201 {
			t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
		}
	}
	ctx := context.Background()
	before, err := st.Migrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	var appliedAt int64
	if err := db.QueryRow("SELECT MAX(applied_at) FROM schema_migrations").Scan(&appliedAt); err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	db.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openFile(t, path)
	defer st.Close()
	after, err := st.Migrations(ctx)
	if err != nil || len(after) != len(before) {
		t.Fatalf("migrations after restart %v (%v), before %v", after, err, before)
	}
	var again int64
	rawDB(t, path).QueryRow("SELECT MAX(applied_at) FROM schema_migrations").Scan(&again)
	if again != appliedAt {
		t.Errorf("a migration was applied again: applied_at %d, was %d", again, appliedAt)
	}
	if n, err := st.CountResponses(ctx); err != nil || n != 5 {
		t.Fatalf("got %d responses after restart (%v), want 5", n, err)
	}
	e2 := apitest.NewWith(t, apitest.Options{Store: st})
	for _, id := range ids {
		if got := stored(t, e2, id); len(got.Answers) != 2 {
			t.Errorf("%s after restart: %+v", id, got)
		}
	}
	// A retry after the restart is still recognised.
	if r := e2.Anon().JSON("POST", "/api/v1/responses", sub(ids[0], "fft", "main", "q1", 0, "q2", "Fine")); r.StatusCode != 200 {
		t.Errorf("retry after restart: got %d %s, want 200", r.StatusCode, r.Body)
	}
}

// The thank-you page promises the first contact by the site's own rule,
// which a manager can change, in the patient's language.
func TestContactPromiseFollowsSiteRule(t *testing.T) {
	e, _ := fileEnv(t)
	admin := e.Token("admin")
	for _, tt := range []struct {
		days       int
		lang, want string
	}{
		{2, "en", "we will contact you within 2 working days"},
		{5, "en", "we will contact you within 5 working days"},
		{1, "en", "we will contact you within 1 working day."},
		{3, "es", "en un plazo de 3 días laborables"},
		{1, "es", "en un plazo de 1 día laborable."},
	} {
		r := admin.JSON("PUT", "/api/v1/sites/main/case-rules", map[string]any{"fft_poor": true, "nps_detractor": true,
			"ignored_dismissed": true, "due_working_days": tt.days, "working_days": []int{1, 2, 3, 4, 5}})
		if r.StatusCode != 200 {
			t.Fatalf("put rules: %d %s", r.StatusCode, r.Body)
		}
		id := formID(t, e.Anon().Get("/f/fft?site=main&lang="+tt.lang))
		v := url.Values{"id": {id}, "site": {"main"}, "lang": {tt.lang}, "a.q1": {"2"}, "contact_ok": {"1"}, "contact_name": {"Ann"}, "contact_email": {"ann@example.org"}}
		want(t, e.Anon().Form("/f/fft", v), 200, tt.want)
	}
}
