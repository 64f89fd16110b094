package alerts

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// receiver is a real HTTP webhook receiver that answers with a script of
// statuses and checks every signature.
type receiver struct {
	mu      sync.Mutex
	script  []int
	calls   int
	badSigs int
	ids     []string
	bodies  []string
	secret  string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !Verify(rc.secret, r.Header.Get(SignatureHeader), body, time.Now(), 5*time.Minute) {
		rc.badSigs++
	}
	rc.ids = append(rc.ids, r.Header.Get("X-CareVoice-Delivery"))
	rc.bodies = append(rc.bodies, string(body))
	status := 200
	if rc.calls < len(rc.script) {
		status = rc.script[rc.calls]
	}
	rc.calls++
	w.WriteHeader(status)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	st := storagetest.SQLite(t)
	ctx := context.Background()
	rc := &receiver{script: []int{500, 503, 200}, secret: "whsec"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	clock := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	d := New(st, Config{Webhooks: []Webhook{{URL: srv.URL, Secret: "whsec"}}, BaseURL: "https://cv.example/",
		Backoff: []time.Duration{time.Minute, 5 * time.Minute, time.Hour}}, storagetest.Quiet)
	d.Now = clock.Now
	ev := Event{Kind: KindUrgent, CaseID: 7, Site: "main", Reasons: []string{"urgent:fall"}, DueAt: clock.Now()}
	if err := d.Plan(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := d.Plan(ctx, ev); err != nil { // a second plan of the same event adds nothing
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		tried   int
	}{
		{0, 1},                // 500
		{0, 0},                // not due yet
		{59 * time.Second, 0}, // still not
		{time.Second, 1},      // 503
		{5 * time.Minute, 1},  // 200
		{time.Hour, 0},        // sent: nothing more
	}
	for i, s := range steps {
		clock.Add(s.advance)
		n, err := d.ProcessDue(ctx)
		if err != nil || n != s.tried {
			t.Fatalf("step %d: tried %d (%v), want %d", i, n, err, s.tried)
		}
	}
	ds, _ := st.Deliveries(ctx, "", 10)
	if len(ds) != 1 || ds[0].Status != "sent" || ds[0].Attempts != 3 {
		t.Fatalf("deliveries: %+v", ds)
	}
	as, _ := st.DeliveryAttempts(ctx, ds[0].ID)
	if len(as) != 3 || as[0].StatusCode != 500 || as[1].StatusCode != 503 || !as[2].OK || as[0].Error == "" {
		t.Fatalf("attempt log: %+v", as)
	}
	if rc.badSigs != 0 || rc.calls != 3 || rc.ids[0] != rc.ids[2] {
		t.Fatalf("receiver: %d bad signatures, %d calls, ids %v", rc.badSigs, rc.calls, rc.ids)
	}
	var msg caseMessage
	if err := json.Unmarshal([]byte(rc.bodies[0]), &msg); err != nil || msg.Case != 7 || !msg.Urgent || msg.URL != "https://cv.example/cases/7" {
		t.Fatalf("body: %s (%v)", rc.bodies[0], err)
	}
	// A tampered body or a foreign secret fails verification.
	h := Sign("whsec", time.Now(), []byte(rc.bodies[0]))
	if Verify("whsec", h, []byte(rc.bodies[0]+" "), time.Now(), time.Minute) || Verify("other", h, []byte(rc.bodies[0]), time.Now(), time.Minute) {
		t.Fatal("a bad signature verified")
	}
	if Verify("whsec", Sign("whsec", time.Now().Add(-time.Hour), []byte("x")), []byte("x"), time.Now(), 5*time.Minute) {
		t.Fatal("an old signature verified (replay)")
	}
}

func TestWebhookGivesUp(t *testing.T) {
	st := storagetest.SQLite(t)
	ctx := context.Background()
	rc := &receiver{script: []int{500, 500, 500, 500}, secret: "k"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	clock := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	d := New(st, Config{Webhooks: []Webhook{{URL: srv.URL, Secret: "k"}}, Backoff: []time.Duration{time.Minute}}, storagetest.Quiet)
	d.Now = clock.Now
	if err := d.Plan(ctx, Event{Kind: KindNewCase, CaseID: 1, Site: "main"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		d.ProcessDue(ctx)
		clock.Add(time.Hour)
	}
	ds, _ := st.Deliveries(ctx, "", 10)
	if len(ds) != 1 || ds[0].Status != "failed" || ds[0].Attempts != 2 || rc.calls != 2 {
		t.Fatalf("got %+v after %d calls, want failed after 2 attempts", ds, rc.calls)
	}
}

func TestEnqueueNeverBlocks(t *testing.T) {
	d := New(storagetest.SQLite(t), Config{QueueSize: 2}, storagetest.Quiet)
	// No Run loop drains the queue: the third event must be dropped, not wait.
	for i := range 5 {
		ok := d.Enqueue(Event{Kind: KindUrgent, CaseID: int64(i)})
		if ok != (i < 2) {
			t.Fatalf("event %d: queued=%v", i, ok)
		}
	}
	if d.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", d.Dropped())
	}
	var nilD *Dispatcher
	if nilD.Enqueue(Event{}) {
		t.Fatal("a nil dispatcher queued")
	}
}

// emailSetup makes a store with users and cases, and a dispatcher mailing
// an in-process SMTP server.
func emailSetup(t *testing.T) (*storage.Store, *Dispatcher, *smtpServer, *fakeClock) {
	st := storagetest.SQLite(t)
	ctx := context.Background()
	if err := st.UpsertSite(ctx, storage.Site{Slug: "north", Name: "North", TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []storage.User{
		{Email: "nora@example.org", Role: "manager", Sites: "north"},
		{Email: "mo@example.org", Role: "manager", Sites: "main"},
		{Email: "ada@example.org", Role: "admin"},
		{Email: "quinn@example.org", Role: "quality"},
		{Email: "gone@example.org", Role: "manager", Sites: "north", Disabled: true},
		// No sites: an account from before they were required, when an
		// empty list meant every site. It receives nothing.
		{Email: "sid@example.org", Role: "manager"},
	} {
		u.PasswordHash = "x"
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	srv, pool := startSMTP(t, false)
	clock := &fakeClock{t: time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC)} // 08:00 in New York
	d := New(st, Config{SMTP: SMTP{Host: "127.0.0.1", Port: srv.port(), From: "cv@clinic.example", StartTLS: true,
		TLS: &tls.Config{RootCAs: pool}}, BaseURL: "https://cv.example"}, storagetest.Quiet)
	d.Now = clock.Now
	return st, d, srv, clock
}

func TestUrgentEmailRecipients(t *testing.T) {
	_, d, srv, _ := emailSetup(t)
	ctx := context.Background()
	if err := d.Plan(ctx, Event{Kind: KindUrgent, CaseID: 12, Site: "north", Reasons: []string{"urgent:self_harm", "contact_requested"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := d.ProcessDue(ctx); n != 2 || err != nil {
		t.Fatalf("sent %d (%v), want 2", n, err)
	}
	mails, _ := srv.got()
	var to []string
	for _, m := range mails {
		to = append(to, m.to...)
		if !strings.Contains(m.data, "URGENT follow-up case #12 at north") || !strings.Contains(m.data, "https://cv.example/cases/12") {
			t.Fatalf("mail:\n%s", m.data)
		}
	}
	got := strings.Join(to, ",")
	if !strings.Contains(got, "nora@example.org") || !strings.Contains(got, "ada@example.org") || len(to) != 2 {
		t.Fatalf("recipients %v: want north's manager and the admin only", to)
	}
}

func TestDailyDigest(t *testing.T) {
	st, d, srv, clock := emailSetup(t)
	ctx := context.Background()
	// An overdue case at north.
	fft := 5
	r := &storage.NewResponse{ID: "r1", Survey: "fft", SurveyVersion: 1, Site: "north", Channel: "link", Lang: "en",
		SubmittedAt: clock.Now().Add(-96 * time.Hour), LocalDay: "2026-02-28", Fingerprint: "f", FFT: &fft,
		Answers: []storage.NewAnswer{{Question: "q1", Type: "rating5", Num: &fft}},
		Case:    &storage.NewCase{Reason: "fft_poor", DueAt: clock.Now().Add(-time.Hour).UnixMilli()}}
	if _, err := st.SubmitResponse(ctx, r); err != nil {
		t.Fatal(err)
	}
	clock.Add(-3 * time.Hour) // 05:00 in New York: too early
	if err := d.Digests(ctx); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.Deliveries(ctx, KindDigest, 10); len(ds) != 0 {
		t.Fatalf("digest before 07:00: %d", len(ds))
	}
	clock.Add(3 * time.Hour)
	for range 2 { // twice: one digest a day
		if err := d.Digests(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := st.Deliveries(ctx, KindDigest, 10)
	if len(ds) != 1 || ds[0].Target != "nora@example.org" {
		t.Fatalf("digests: %+v, want one for north's manager (main's has nothing)", ds)
	}
	d.ProcessDue(ctx)
	mails, _ := srv.got()
	if len(mails) != 1 || !strings.Contains(mails[0].data, "overdue (no contact yet):   1") {
		t.Fatalf("digest mail: %+v", mails)
	}
}

// weekly spreads weekly totals over 7 days ending on last.
func weekly(last time.Time, perWeek []int) map[string]int {
	m := map[string]int{}
	for w, n := range perWeek {
		for d := 0; d < 7; d++ {
			day := last.AddDate(0, 0, -(len(perWeek)-1-w)*7-(6-d)).Format(time.DateOnly)
			m[day] += n / 7
			if d < n%7 {
				m[day]++
			}
		}
	}
	return m
}

func TestDetectSpikes(t *testing.T) {
	last := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	cfg := stats.DefaultSpikeConfig
	rep := func(n, k int) []int {
		s := make([]int, k)
		for i := range s {
			s[i] = n
		}
		return s
	}
	tests := []struct {
		name       string
		volume     []int // comments per week, oldest first; the last is this week
		complaints []int
		fire       bool
	}{
		{"busy site, real rise 10 → 25 a week", append(rep(200, 8), 200), append(rep(10, 8), 25), true},
		{"small site, same 2.5× rise 1 → 3 (noise)", append(rep(20, 8), 20), append(rep(1, 8), 3), false},
		{"small site, real rise 1 → 8", append(rep(20, 8), 20), append(rep(1, 8), 8), true},
		{"busy week, same share (not a spike)", append(rep(100, 8), 250), append(rep(5, 8), 13), false},
		{"quiet baseline, two complaints", append(rep(30, 8), 30), append(rep(0, 8), 2), false},
		{"new site without history", []int{40}, []int{10}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DetectSpikes(weekly(last, tt.volume), map[string]map[string]int{"wait_times": weekly(last, tt.complaints)}, last, cfg)
			if (len(got) == 1) != tt.fire {
				t.Fatalf("fired=%v (%+v), want %v", len(got) == 1, got, tt.fire)
			}
			if tt.fire && (got[0].Theme != "wait_times" || got[0].To != "2026-03-08" || got[0].From != "2026-03-02") {
				t.Fatalf("spike: %+v", got[0])
			}
		})
	}
}

// TestSpikeFalseAlarms runs a steady complaint rate through 400 site-weeks
// of Poisson noise (a fixed seed, so the count is exact): the 1% test with
// the 1.5× and 3-complaint floors must stay near silent.
func TestSpikeFalseAlarms(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	poisson := func(l float64) int {
		L, k, p := math.Exp(-l), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= L {
				return k
			}
			k++
		}
	}
	last := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	fired := 0
	const runs = 400
	for i := range runs {
		rate := []float64{0.5, 2, 10}[i%3] // small, medium and busy sites
		vol, comp := make([]int, 9), make([]int, 9)
		for w := range 9 {
			vol[w] = int(rate * 20)
			comp[w] = poisson(rate)
		}
		got := DetectSpikes(weekly(last, vol), map[string]map[string]int{"t": weekly(last, comp)}, last, stats.DefaultSpikeConfig)
		fired += len(got)
	}
	if fired > runs/50 {
		t.Fatalf("%d false alarms in %d steady site-weeks, want at most %d", fired, runs, runs/50)
	}
	t.Logf("%d false alarms in %d steady site-weeks", fired, runs)
}

func TestSpikesWriteAlerts(t *testing.T) {
	st := storagetest.SQLite(t)
	ctx := context.Background()
	rc := &receiver{secret: "k"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	clock := &fakeClock{t: time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)} // Monday; last week is 2–8 March
	d := New(st, Config{Webhooks: []Webhook{{URL: srv.URL, Secret: "k"}}}, storagetest.Quiet)
	d.Now = clock.Now
	// Eight quiet weeks then a bad one at main: 4 comments a day, one in
	// eight about waits, then four in eight.
	n := 0
	for day := clock.Now().AddDate(0, 0, -63); day.Before(clock.Now().Truncate(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
		bad := 0
		if day.After(clock.Now().AddDate(0, 0, -8)) {
			bad = 2
		} else if day.YearDay()%2 == 0 {
			bad = 1
		}
		for i := range 4 {
			theme := "environment"
			if i < bad {
				theme = "wait_times"
			}
			n++
			fft := 3
			text := "x"
			r := &storage.NewResponse{ID: fmt.Sprintf("r%d", n), Survey: "fft", SurveyVersion: 1, Site: "main", Channel: "link", Lang: "en",
				SubmittedAt: day, LocalDay: day.Format(time.DateOnly), Fingerprint: "f", FFT: &fft,
				Answers: []storage.NewAnswer{{Question: "q3", Type: "text", Text: &text, Analysis: analyticsResult(theme)}}}
			if _, err := st.SubmitResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 2 {
		if err := d.Spikes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ds, _ := st.Deliveries(ctx, KindSpike, 10)
	if len(ds) != 1 || !strings.Contains(ds[0].Subject, "Wait times") {
		t.Fatalf("spike alerts: %+v, want one about waits", ds)
	}
	d.ProcessDue(ctx)
	if rc.calls != 1 || !strings.Contains(rc.bodies[0], `"theme":"wait_times"`) || !strings.Contains(rc.bodies[0], "Poisson") {
		t.Fatalf("webhook: %d calls %v", rc.calls, rc.bodies)
	}
}
