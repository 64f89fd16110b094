// Package loadtest drives realistic submissions at running CareVoice servers,
// records every acknowledgement and then checks that each acknowledged
// response is stored exactly once. `carevoice loadtest` and the end-to-end
// crash tests share it.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Config says what to drive and how hard.
type Config struct {
	URLs        []string      // base URLs; requests go round-robin across them
	Duration    time.Duration // how long to submit (Drive also stops when ctx ends)
	Concurrency int           // clients submitting at once
	// Token is an admin (or quality) bearer token: it exempts the load from
	// the public rate limits and lets Verify read responses back.
	Token string
	// Public sends submissions without credentials, as patients' phones do
	// (the token still reads them back); the server's per-address limit must
	// then be off (CAREVOICE_RATE_LIMIT_IP=off) or every client shares it.
	Public bool
	// RetryEvery resends every Nth acknowledged submission unchanged (to the
	// next instance), as a phone on a flaky network would; the server must
	// answer 200, not store it again. 0 means 50; negative disables.
	RetryEvery int
	// Timeout bounds one HTTP request (default 10s).
	Timeout time.Duration
	// OnAck, when set, is called (from many goroutines) with each id as it
	// is acknowledged; tests use it to know what was acknowledged by when.
	OnAck func(id string)
	// Log receives progress and the first few unexpected answers (not the
	// bodies sent, which hold patient-like text). Nil discards.
	Log io.Writer
}

// Result is the JSON line `carevoice loadtest` prints (SPEC "Commands").
type Result struct {
	Sent       int64   `json:"sent"`
	Acked      int64   `json:"acked"`
	Stored     int64   `json:"stored"`
	Lost       int64   `json:"lost"`
	Duplicates int64   `json:"duplicates"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Errors     int64   `json:"errors"`
}

// Report is what Drive saw: every acknowledged id and the timings.
type Report struct {
	Acked      []string // ids the server acknowledged (201 or 200)
	Sent       int64    // distinct submissions attempted
	Requests   int64    // HTTP requests, retries included
	Errors     int64    // requests answered with anything but 200/201, or failed
	Duplicates int64    // identical retries the server stored a second time (201)
	Elapsed    time.Duration
	latencies  []uint32 // microseconds, every request
}

// Result summarises the report; Stored and Lost come from a verification.
func (r *Report) Result(stored, lost, duplicates int64) Result {
	out := Result{Sent: r.Sent, Acked: int64(len(r.Acked)), Stored: stored, Lost: lost,
		Duplicates: r.Duplicates + duplicates, Errors: r.Errors}
	if s := r.Elapsed.Seconds(); s > 0 {
		out.RPS = round1(float64(len(r.Acked)) / s)
	}
	if n := len(r.latencies); n > 0 {
		l := slices.Clone(r.latencies)
		slices.Sort(l)
		out.P50 = round1(float64(l[n/2]) / 1000)
		out.P99 = round1(float64(l[min(n-1, n*99/100)]) / 1000)
	}
	return out
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// target is a site the generator submits for.
type target struct {
	Slug        string
	Departments []string
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.RetryEvery == 0 {
		c.RetryEvery = 50
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	for i, u := range c.URLs {
		c.URLs[i] = strings.TrimRight(u, "/")
	}
}

func newClient(c *Config) *fasthttp.Client {
	return &fasthttp.Client{
		MaxConnsPerHost:               c.Concurrency + 8,
		ReadTimeout:                   c.Timeout,
		WriteTimeout:                  c.Timeout,
		MaxIdleConnDuration:           30 * time.Second,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		MaxConnWaitTimeout:            c.Timeout,
	}
}

// Drive submits until cfg.Duration has passed or ctx ends, and returns what
// was acknowledged. A request in flight when time runs out is finished and
// counted: its answer may be an acknowledgement.
func Drive(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if len(cfg.URLs) == 0 {
		return nil, errors.New("loadtest: give at least one --url")
	}
	client := newClient(&cfg)
	sites, err := discoverSites(client, &cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var logged atomic.Int32
	workers := make([]*worker, cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		var seed [16]byte
		rand.Read(seed[:])
		w := &worker{cfg: &cfg, client: client, sites: sites, next: i, logged: &logged,
			rng: mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(ctx) }()
	}
	wg.Wait()
	rep := &Report{Elapsed: time.Since(start)}
	for _, w := range workers {
		rep.Acked = append(rep.Acked, w.acked...)
		rep.latencies = append(rep.latencies, w.lat...)
		rep.Sent += w.sent
		rep.Requests += w.requests
		rep.Errors += w.errors
		rep.Duplicates += w.dups
	}
	return rep, nil
}

// discoverSites asks the first server which sites exist; without a token
// only the site seeded on first start ("main") is certain.
func discoverSites(client *fasthttp.Client, cfg *Config) ([]target, error) {
	if cfg.Token == "" {
		return []target{{Slug: "main"}}, nil
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(cfg.URLs[0] + "/api/v1/sites")
	req.Header.Set("Authorization", "Bearer "+cfg.Token)
	if err := client.DoTimeout(req, resp, cfg.Timeout); err != nil {
		return nil, fmt.Errorf("loadtest: list sites: %w", err)
	}
	if resp.StatusCode() != 200 {
		return nil, fmt.Errorf("loadtest: list sites: status %d (is --token an admin token?)", resp.StatusCode())
	}
	var sites []struct {
		Slug        string `json:"slug"`
		Departments []struct {
			Slug string `json:"slug"`
		} `json:"departments"`
	}
	if err := json.Unmarshal(resp.Body(), &sites); err != nil {
		return nil, fmt.Errorf("loadtest: list sites: %w", err)
	}
	var out []target
	for _, s := range sites {
		t := target{Slug: s.Slug}
		for _, d := range s.Departments {
			t.Departments = append(t.Departments, d.Slug)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.New("loadtest: the server has no sites")
	}
	return out, nil
}

type worker struct {
	cfg    *Config
	client *fasthttp.Client
	sites  []target
	rng    *mrand.Rand
	next   int // round-robin position over cfg.URLs
	logged *atomic.Int32

	acked                        []string
	lat                          []uint32
	sent, requests, errors, dups int64
	body                         []byte
}

func (w *worker) url() string {
	u := w.cfg.URLs[w.next%len(w.cfg.URLs)]
	w.next++
	return u
}

func (w *worker) loop(ctx context.Context) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for ctx.Err() == nil {
		id := w.uuid()
		w.body = w.build(w.body[:0], id)
		w.sent++
		status := w.post(ctx, req, resp, true)
		if status != 200 && status != 201 {
			continue
		}
		w.acked = append(w.acked, id)
		if w.cfg.OnAck != nil {
			w.cfg.OnAck(id)
		}
		if w.cfg.RetryEvery > 0 && len(w.acked)%w.cfg.RetryEvery == 0 {
			// The patient's phone never saw the answer and sends again.
			if st := w.post(ctx, req, resp, false); st == 201 {
				w.dups++
				w.logf("identical retry of %s was stored again (201)", id)
			}
		}
	}
}

// post sends w.body until it is acknowledged or refused for good. 503 and
// 429 mean "later", and a failed connection may or may not have been
// stored, so both are retried with the same id, which the server
// deduplicates. retry=false sends once.
func (w *worker) post(ctx context.Context, req *fasthttp.Request, resp *fasthttp.Response, retry bool) int {
	for backoff := 5 * time.Millisecond; ; backoff = min(2*backoff, 500*time.Millisecond) {
		req.Reset()
		req.SetRequestURI(w.url() + "/api/v1/responses")
		req.Header.SetMethod("POST")
		req.Header.SetContentType("application/json")
		if w.cfg.Token != "" && !w.cfg.Public {
			req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
		}
		req.SetBodyRaw(w.body)
		t0 := time.Now()
		err := w.client.DoTimeout(req, resp, w.cfg.Timeout)
		w.requests++
		w.lat = append(w.lat, uint32(min(time.Since(t0).Microseconds(), 1<<32-1)))
		status := 0
		if err == nil {
			status = resp.StatusCode()
		}
		switch {
		case status == 200 || status == 201:
			return status
		case err != nil:
			w.errors++
			w.logf("request failed: %v", err)
		case status == 503 || status == 429:
			w.errors++
		default:
			w.errors++
			w.logf("unexpected status %d: %.200s", status, resp.Body())
			return status
		}
		if !retry || ctx.Err() != nil {
			return status
		}
		time.Sleep(backoff)
	}
}

func (w *worker) logf(format string, args ...any) {
	if w.logged.Add(1) <= 10 {
		fmt.Fprintf(w.cfg.Log, "loadtest: "+format+"\n", args...)
	}
}

// uuid makes ids as CareVoice's own forms and kiosks do: UUIDv7, the time
// in milliseconds then random bits (api.newResponseID, static/js/kiosk.js).
func (w *worker) uuid() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16|w.rng.Uint64()&0xffff)
	binary.LittleEndian.PutUint64(b[8:], w.rng.Uint64())
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// Pre-encoded comments, so that building a body is appends only.
var encEN, encES = encodeAll(commentsEN), encodeAll(commentsES)

func encodeAll(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i], _ = json.Marshal(s)
	}
	return out
}

var categories = []string{"care", "staff", "waiting", "building", "other"}

// build appends one realistic submission: 60% FFT, 25% NPS, 15% suggestion
// box; one in five in Spanish; most with a comment, some with two; a few ask
// to be contacted.
func (w *worker) build(b []byte, id string) []byte {
	r := w.rng
	site := w.sites[r.IntN(len(w.sites))]
	lang, comments := "en", encEN
	if r.IntN(5) == 0 {
		lang, comments = "es", encES
	}
	comment := func() []byte { return comments[r.IntN(len(comments))] }
	kind := r.IntN(20)
	surveyName, channel := "fft", "link"
	switch {
	case kind >= 17:
		surveyName, channel = "suggestion", "suggestion"
	case kind >= 12:
		surveyName = "nps"
	}
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","survey":"`...)
	b = append(b, surveyName...)
	b = append(b, `","site":"`...)
	b = append(b, site.Slug...)
	if len(site.Departments) > 0 && channel != "suggestion" && r.IntN(4) != 0 {
		b = append(b, `","department":"`...)
		b = append(b, site.Departments[r.IntN(len(site.Departments))]...)
	}
	b = append(b, `","channel":"`...)
	b = append(b, channel...)
	b = append(b, `","lang":"`...)
	b = append(b, lang...)
	b = append(b, `","answers":[`...)
	switch surveyName {
	case "fft":
		// Mostly good, as real FFT results are.
		score := [...]int{1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 5, 0}[r.IntN(12)]
		b = append(b, `{"question":"q1","value":`...)
		b = strconv.AppendInt(b, int64(score), 10)
		b = append(b, '}')
		if r.IntN(10) < 7 {
			b = append(b, `,{"question":"q2","value":`...)
			b = append(b, comment()...)
			b = append(b, '}')
		}
		if r.IntN(10) < 4 {
			b = append(b, `,{"question":"q3","value":`...)
			b = append(b, comment()...)
			b = append(b, '}')
		}
	case "nps":
		b = append(b, `{"question":"q1","value":`...)
		b = strconv.AppendInt(b, int64(r.IntN(11)), 10)
		b = append(b, '}')
		if r.IntN(10) < 6 {
			b = append(b, `,{"question":"q2","value":`...)
			b = append(b, comment()...)
			b = append(b, '}')
		}
	default:
		b = append(b, `{"question":"q1","value":`...)
		b = append(b, comment()...)
		b = append(b, '}')
		if r.IntN(2) == 0 {
			b = append(b, `,{"question":"q2","value":"`...)
			b = append(b, categories[r.IntN(len(categories))]...)
			b = append(b, `"}`...)
		}
	}
	b = append(b, ']')
	if r.IntN(20) == 0 {
		b = append(b, `,"contact":{"ok_to_contact":true,"email":"patient`...)
		b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
		b = append(b, `@example.org"}`...)
	}
	return append(b, '}')
}

// Ceiling measures GET /healthz at the same concurrency for d: the rate the
// HTTP stack and the machine allow for a request that does nothing, so that
// the submission rate can be read as a fraction of it.
func Ceiling(ctx context.Context, cfg Config, d time.Duration) (Result, error) {
	cfg.defaults()
	if len(cfg.URLs) == 0 {
		return Result{}, errors.New("loadtest: give at least one --url")
	}
	client := newClient(&cfg)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	rep := &Report{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < cfg.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var lat []uint32
			var ok, errs int64
			for n := i; ctx.Err() == nil; n++ {
				req.SetRequestURI(cfg.URLs[n%len(cfg.URLs)] + "/healthz")
				t0 := time.Now()
				err := client.DoTimeout(req, resp, cfg.Timeout)
				lat = append(lat, uint32(min(time.Since(t0).Microseconds(), 1<<32-1)))
				if err == nil && resp.StatusCode() == 200 {
					ok++
				} else {
					errs++
				}
			}
			mu.Lock()
			rep.latencies = append(rep.latencies, lat...)
			rep.Sent += ok + errs
			rep.Errors += errs
			for ; ok > 0; ok-- {
				rep.Acked = append(rep.Acked, "")
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	return rep.Result(0, 0, 0), nil
}
