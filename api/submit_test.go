package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
)

func TestSubmitRoundTrip(t *testing.T) {
	e := apitest.New(t)
	body := `{"id":"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01","survey":"fft","site":"main","channel":"link",
		"answers":[{"question":"q1","value":2},{"question":"q3","value":"The wait was long"}]}`
	first := e.Anon().JSON("POST", "/api/v1/responses", body)
	if first.StatusCode != 201 {
		t.Fatalf("got %d %s, want 201", first.StatusCode, first.Body)
	}
	again := e.Anon().JSON("POST", "/api/v1/responses", body)
	if again.StatusCode != 200 || again.Body != first.Body {
		t.Fatalf("retry: got %d %s, want 200 %s", again.StatusCode, again.Body, first.Body)
	}
	got := e.Token("quality").Get("/api/v1/responses/0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01")
	if got.StatusCode != 200 {
		t.Fatalf("get: got %d %s", got.StatusCode, got.Body)
	}
	var stored struct {
		Channel string `json:"channel"`
		Lang    string `json:"lang"`
		Answers []struct {
			Question string `json:"question"`
			Analysis *struct {
				Sentiment string `json:"sentiment"`
				Version   string `json:"version"`
			} `json:"analysis"`
		} `json:"answers"`
	}
	got.Decode(t, &stored)
	if stored.Channel != "link" || stored.Lang != "en" || len(stored.Answers) != 2 {
		t.Fatalf("stored: got %+v", stored)
	}
	if a := stored.Answers[1].Analysis; a == nil || a.Sentiment == "" || a.Version == "" {
		t.Errorf("the comment was stored without the analyzer's result: %s", got.Body)
	}
}

// sub builds a submission body; edit adjusts it before it is encoded.
func sub(id, survey, site string, answers ...any) map[string]any {
	var as []map[string]any
	for i := 0; i+1 < len(answers); i += 2 {
		as = append(as, map[string]any{"question": answers[i], "value": answers[i+1]})
	}
	return map[string]any{"id": id, "survey": survey, "site": site, "channel": "link", "answers": as}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type errorBody struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields"`
}

var siteOther = storage.Site{Slug: "other", Name: "Other clinic", TimeZone: "UTC"}

func count(t *testing.T, e *apitest.Env) int64 {
	t.Helper()
	n, err := e.Store.CountResponses(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// invite makes one invitation through the API and returns its token.
func invite(t *testing.T, e *apitest.Env, c *apitest.Client, body map[string]any) string {
	t.Helper()
	r := c.JSON("POST", "/api/v1/invitations", body)
	if r.StatusCode != 201 {
		t.Fatalf("create invitation: got %d %s, want 201", r.StatusCode, r.Body)
	}
	var raw struct {
		Invitations []map[string]string `json:"invitations"`
	}
	r.Decode(t, &raw)
	if len(raw.Invitations) != 1 || len(raw.Invitations[0]["token"]) < 22 {
		t.Fatalf("create invitation: got %s", r.Body)
	}
	return raw.Invitations[0]["token"]
}

// TestSubmitRefusals sends every bad input of issue 2 through the real app
// and checks the status, the field message, and that nothing was stored.
func TestSubmitRefusals(t *testing.T) {
	eachDB(t, testSubmitRefusals)
}

// eachDB runs f on SQLite and, when CAREVOICE_TEST_POSTGRES is set, on
// PostgreSQL (it skips, saying why, otherwise).
func eachDB(t *testing.T, f func(t *testing.T, e *apitest.Env)) {
	t.Run("sqlite", func(t *testing.T) { f(t, apitest.New(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, apitest.NewWith(t, apitest.Options{Postgres: true})) })
}

func testSubmitRefusals(t *testing.T, e *apitest.Env) {
	admin := e.Token("admin")
	// A survey with a multi question, made the way an admin would.
	r := admin.JSON("POST", "/api/v1/surveys", map[string]any{"slug": "visit", "title": map[string]string{"en": "Visit"},
		"questions": []map[string]any{
			{"id": "why", "type": "multi", "text": map[string]string{"en": "Why did you come?"},
				"options": []map[string]any{{"id": "checkup", "text": map[string]string{"en": "Check-up"}}, {"id": "pain", "text": map[string]string{"en": "Pain"}}}},
			{"id": "ok", "type": "yesno", "required": true, "text": map[string]string{"en": "Were you seen on time?"}}}})
	if r.StatusCode != 201 {
		t.Fatalf("create survey: %d %s", r.StatusCode, r.Body)
	}
	if err := e.Store.UpsertSite(context.Background(), siteOther); err != nil {
		t.Fatal(err)
	}
	otherKiosk, _ := e.Device("other")

	// Fixtures that are themselves stored before the case is counted.
	usedToken := invite(t, e, admin, map[string]any{"survey": "fft", "site": "main"})
	if r := e.Anon().JSON("POST", "/api/v1/responses", func() map[string]any {
		b := sub(uuid.NewString(), "fft", "main", "q1", 1)
		b["channel"], b["token"] = "invite", usedToken
		return b
	}()); r.StatusCode != 201 {
		t.Fatalf("first use of invitation: %d %s", r.StatusCode, r.Body)
	}
	expiring := invite(t, e, admin, map[string]any{"survey": "fft", "site": "main", "expires_in_hours": 1})
	storedID := uuid.NewString()
	storedBody := mustJSON(t, sub(storedID, "fft", "main", "q1", 2, "q2", "Kind nurse"))
	first := e.Anon().JSON("POST", "/api/v1/responses", storedBody)
	if first.StatusCode != 201 {
		t.Fatalf("fixture: %d %s", first.StatusCode, first.Body)
	}

	invalidUTF8 := []byte(`{"id":"` + uuid.NewString() + `","survey":"fft","site":"main","channel":"link","answers":[{"question":"q1","value":1},{"question":"q2","value":"caf` + "\xe9" + ` ok"}]}`)

	type tc struct {
		name   string
		client *apitest.Client
		body   any
		clock  time.Duration // move the app's clock forward for this case
		status int
		fields map[string]string // each must be present with this message
		error  string            // when set, the "error" text
		same   string            // when set, the body must equal this
	}
	id := uuid.NewString
	withToken := func(tok string) map[string]any {
		b := sub(id(), "fft", "main", "q1", 1)
		b["channel"], b["token"] = "invite", tok
		return b
	}
	cases := []tc{
		{name: "unknown survey", body: sub(id(), "nope", "main", "q1", 1), status: 404,
			fields: map[string]string{"survey": "unknown survey"}},
		{name: "unknown site", body: sub(id(), "fft", "nowhere", "q1", 1), status: 404,
			fields: map[string]string{"site": "unknown site"}},
		{name: "unknown question", body: sub(id(), "fft", "main", "q1", 1, "q9", "x"), status: 400,
			fields: map[string]string{"answers[1].question": "unknown question"}},
		{name: "rating5 out of range", body: sub(id(), "fft", "main", "q1", 9), status: 400,
			fields: map[string]string{"answers[0].value": "must be a whole number from 0 to 5"}},
		{name: "rating5 negative", body: sub(id(), "fft", "main", "q1", -1), status: 400,
			fields: map[string]string{"answers[0].value": "must be a whole number from 0 to 5"}},
		{name: "rating5 not a whole number", body: sub(id(), "fft", "main", "q1", 2.5), status: 400,
			fields: map[string]string{"answers[0].value": "must be a whole number from 0 to 5"}},
		{name: "nps out of range", body: sub(id(), "nps", "main", "q1", 11), status: 400,
			fields: map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{name: "wrong type abc", body: sub(id(), "fft", "main", "q1", "abc"), status: 400,
			fields: map[string]string{"answers[0].value": "must be a whole number from 0 to 5"}},
		{name: "text given a number", body: sub(id(), "fft", "main", "q1", 1, "q2", 5), status: 400,
			fields: map[string]string{"answers[1].value": "must be text"}},
		{name: "multi with unknown option", body: sub(id(), "visit", "main", "why", []string{"pain", "boredom"}, "ok", true), status: 400,
			fields: map[string]string{"answers[0].value": "must be a list of the question's options"}},
		{name: "multi given a string", body: sub(id(), "visit", "main", "why", "pain", "ok", true), status: 400,
			fields: map[string]string{"answers[0].value": "must be a list of the question's options"}},
		{name: "yesno given a number", body: sub(id(), "visit", "main", "ok", 3), status: 400,
			fields: map[string]string{"answers[0].value": "must be true or false"}},
		{name: "required question missing", body: sub(id(), "fft", "main", "q2", "Lovely staff"), status: 400,
			fields: map[string]string{"answers.q1": "is required"}},
		{name: "required question null", body: sub(id(), "fft", "main", "q1", nil), status: 400,
			fields: map[string]string{"answers[0].value": "is required"}},
		{name: "required text blank", body: sub(id(), "suggestion", "main", "q1", "   "), status: 400,
			fields: map[string]string{"answers[0].value": "is required"}},
		{name: "question answered twice", body: sub(id(), "fft", "main", "q1", 1, "q1", 2), status: 400,
			fields: map[string]string{"answers[1].question": "answered twice"}},
		{name: "text over 5000 characters", body: sub(id(), "fft", "main", "q1", 1, "q3", strings.Repeat("é", 5001)), status: 400,
			fields: map[string]string{"answers[1].value": "is too long (5000 characters at most)"}},
		{name: "invalid UTF-8", body: invalidUTF8, status: 400,
			fields: map[string]string{"answers[1].value": "is not valid UTF-8"}},
		{name: "malformed JSON", body: `{"id": "x", "survey": `, status: 400,
			fields: map[string]string{"body": "is not valid JSON"}},
		{name: "answers of the wrong type", body: `{"id":"` + id() + `","survey":"fft","site":"main","channel":"link","answers":"good"}`, status: 400,
			fields: map[string]string{"answers": "has the wrong type"}},
		{name: "id not a UUID", body: sub("1234", "fft", "main", "q1", 1), status: 400,
			fields: map[string]string{"id": "must be a UUID made by the client"}},
		{name: "all field errors together", body: sub("not-a-uuid", "fft", "main", "q1", 9, "q9", "x"), status: 400,
			fields: map[string]string{"id": "must be a UUID made by the client", "answers[0].value": "must be a whole number from 0 to 5", "answers[1].question": "unknown question"}},
		{name: "unknown site named with other errors", body: sub("not-a-uuid", "fft", "nowhere", "q1", 9), status: 404,
			fields: map[string]string{"site": "unknown site", "id": "must be a UUID made by the client"}},
		{name: "unknown channel", body: func() map[string]any { b := sub(id(), "fft", "main", "q1", 1); b["channel"] = "fax"; return b }(), status: 400,
			fields: map[string]string{"channel": "must be link, kiosk, invite or suggestion"}},
		{name: "kiosk channel without a key", body: func() map[string]any { b := sub(id(), "fft", "main", "q1", 1); b["channel"] = "kiosk"; return b }(), status: 400,
			fields: map[string]string{"channel": "kiosk submissions need the kiosk's key"}},
		{name: "unknown department", body: func() map[string]any { b := sub(id(), "fft", "main", "q1", 1); b["department"] = "surgery"; return b }(), status: 400,
			fields: map[string]string{"department": "is not a department of this site"}},
		{name: "contact without a way to reach", body: func() map[string]any {
			b := sub(id(), "fft", "main", "q1", 1)
			b["contact"] = map[string]any{"ok_to_contact": true, "name": "Ann"}
			return b
		}(), status: 400, fields: map[string]string{"contact": "give a phone number or an email address so we can contact you"}},
		{name: "kiosk key used for another site", client: otherKiosk, body: func() map[string]any {
			b := sub(id(), "fft", "main", "q1", 1)
			b["channel"] = "kiosk"
			return b
		}(), status: 403, fields: map[string]string{"site": "is not this kiosk's site"}},
		{name: "revoked or unknown kiosk key", client: &apitest.Client{Kiosk: "not-a-key"}, body: sub(id(), "fft", "main", "q1", 1), status: 401,
			error: "unknown or revoked kiosk key"},
		{name: "used invitation", body: withToken(usedToken), status: 410, fields: map[string]string{"token": "used or expired"}},
		{name: "expired invitation", body: withToken(expiring), clock: 2 * time.Hour, status: 410, fields: map[string]string{"token": "used or expired"}},
		{name: "unknown invitation", body: withToken("no-such-token"), status: 410, fields: map[string]string{"token": "is not a valid invitation"}},
		{name: "same id different body", body: sub(storedID, "fft", "main", "q1", 4), status: 409,
			fields: map[string]string{"id": "already used for a different response"}},
		{name: "identical retry", body: storedBody, status: 200, same: first.Body},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := c.client
			if client == nil {
				client = e.Anon()
			} else if client.Kiosk == "not-a-key" {
				client = e.Anon()
				client.Kiosk = "not-a-key"
			}
			if c.clock != 0 {
				e.Now = time.Now().Add(c.clock)
				defer func() { e.Now = time.Time{} }()
			}
			before := count(t, e)
			r := client.JSON("POST", "/api/v1/responses", c.body)
			if r.StatusCode != c.status {
				t.Fatalf("got %d %s, want %d", r.StatusCode, r.Body, c.status)
			}
			if c.same != "" && r.Body != c.same {
				t.Errorf("got body %s, want the first answer %s", r.Body, c.same)
			}
			if c.status >= 400 {
				var eb errorBody
				r.Decode(t, &eb)
				if eb.Error == "" {
					t.Errorf("no error message in %s", r.Body)
				}
				if c.error != "" && eb.Error != c.error {
					t.Errorf("got error %q, want %q", eb.Error, c.error)
				}
				for k, want := range c.fields {
					if got := eb.Fields[k]; got != want {
						t.Errorf("fields[%q] = %q, want %q (all: %v)", k, got, want, eb.Fields)
					}
				}
			}
			if after := count(t, e); after != before {
				t.Errorf("got %d responses after, want %d: a refused submission stored something", after, before)
			}
		})
	}
}

// TestSubmitConcurrentRetries sends one submission 20 times at once over
// HTTP: one is created, the others are answered as retries, one is stored.
func TestSubmitConcurrentRetries(t *testing.T) {
	eachDB(t, testSubmitConcurrentRetries)
}

func testSubmitConcurrentRetries(t *testing.T, e *apitest.Env) {
	id := uuid.NewString()
	body := mustJSON(t, sub(id, "fft", "main", "q1", 1, "q2", "Seen on time, thank you", "q3", "Nothing"))
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	bodies := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Anon().JSON("POST", "/api/v1/responses", body)
			statuses <- r.StatusCode
			bodies <- r.Body
		}()
	}
	wg.Wait()
	close(statuses)
	close(bodies)
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	if got[201] != 1 || got[200] != 19 {
		t.Errorf("got statuses %v, want one 201 and nineteen 200", got)
	}
	var first string
	for b := range bodies {
		if first == "" {
			first = b
		} else if b != first {
			t.Errorf("retries answered differently: %s vs %s", b, first)
		}
	}
	if n := count(t, e); n != 1 {
		t.Errorf("got %d responses stored, want exactly 1", n)
	}
}

func TestKioskKeySubmitsForItsSite(t *testing.T) {
	e := apitest.New(t)
	k, _ := e.Device("main")
	// The kiosk may leave site and channel out: its key says both.
	b := sub(uuid.NewString(), "fft", "", "q1", 2)
	delete(b, "channel")
	r := k.JSON("POST", "/api/v1/responses", b)
	if r.StatusCode != 201 {
		t.Fatalf("got %d %s, want 201", r.StatusCode, r.Body)
	}
	var stored struct{ Site, Channel string }
	e.Token("admin").Get(fmt.Sprintf("/api/v1/responses/%s", b["id"])).Decode(t, &stored)
	if stored.Site != "main" || stored.Channel != "kiosk" {
		t.Errorf("got %+v, want site main, channel kiosk", stored)
	}
	// A kiosk may not claim another channel.
	b = sub(uuid.NewString(), "fft", "main", "q1", 2)
	if r := k.JSON("POST", "/api/v1/responses", b); r.StatusCode != 400 || !strings.Contains(r.Body, "must be kiosk") {
		t.Errorf("kiosk with channel link: got %d %s, want 400", r.StatusCode, r.Body)
	}
}

// TestSubmitTooLarge sends a body over 64 KiB to a listening server: Fiber's
// test hook cannot carry a refused body, so this one goes over a socket.
func TestSubmitTooLarge(t *testing.T) {
	e := apitest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.App.Listener(ln)
	defer e.App.Shutdown()
	huge := mustJSON(t, sub(uuid.NewString(), "fft", "main", "q1", 1, "q2", strings.Repeat("a", 70<<10)))
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/v1/responses", "application/json", strings.NewReader(huge))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb errorBody
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 {
		t.Fatalf("got %d %s, want 413", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &eb); err != nil || eb.Error != "request body too large" {
		t.Errorf("got body %q (%v), want the JSON error \"request body too large\"", b, err)
	}
	if n := count(t, e); n != 0 {
		t.Errorf("got %d responses, want 0", n)
	}
}
