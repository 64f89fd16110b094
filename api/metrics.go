package api

import (
	"crypto/subtle"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// metrics keeps the counters /metrics exposes in the Prometheus text format.
// A handful of histograms and counters do not justify a client library.
type metrics struct {
	mu          sync.Mutex
	requests    map[[3]string]uint64 // method, route, status class
	latency     map[[2]string]*histogram
	batch       *histogram
	commit      *histogram
	analyzer    *histogram
	submissions map[string]uint64
	limited     map[string]uint64 // requests refused by rate limits, by principal kind
}

type histogram struct {
	bounds []float64
	counts []uint64
	sum    float64
	n      uint64
}

func newHistogram(bounds ...float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
		}
	}
	h.sum += v
	h.n++
}

var latencyBounds = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newMetrics() *metrics {
	return &metrics{
		requests: map[[3]string]uint64{}, latency: map[[2]string]*histogram{},
		batch:  newHistogram(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
		commit: newHistogram(latencyBounds...), analyzer: newHistogram(.00001, .00005, .0001, .0005, .001, .005, .01),
		submissions: map[string]uint64{}, limited: map[string]uint64{},
	}
}

var statusClass = [...]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (m *metrics) observeRequest(method, route string, status int, d time.Duration) {
	class := "5xx"
	if c := status / 100; c >= 0 && c < len(statusClass) {
		class = statusClass[c]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k3 := [3]string{method, route, class}
	if _, ok := m.requests[k3]; !ok {
		// Fiber's strings point into buffers it reuses for the next
		// request: a map key must own its bytes.
		method, route = strings.Clone(method), strings.Clone(route)
		k3 = [3]string{method, route, class}
	}
	m.requests[k3]++
	k := [2]string{method, route}
	h := m.latency[k]
	if h == nil {
		h = newHistogram(latencyBounds...)
		m.latency[[2]string{strings.Clone(method), strings.Clone(route)}] = h
	}
	h.observe(d.Seconds())
}

func (m *metrics) observeBatch(size int, commit time.Duration) {
	m.mu.Lock()
	m.batch.observe(float64(size))
	m.commit.observe(commit.Seconds())
	m.mu.Unlock()
}

func (m *metrics) observeAnalyzer(d time.Duration) {
	m.mu.Lock()
	m.analyzer.observe(d.Seconds())
	m.mu.Unlock()
}

func (m *metrics) observeSubmission(channel string) {
	m.mu.Lock()
	if _, ok := m.submissions[channel]; !ok {
		channel = strings.Clone(channel)
	}
	m.submissions[channel]++
	m.mu.Unlock()
}

func (m *metrics) observeRateLimited(kind string) {
	m.mu.Lock()
	m.limited[kind]++
	m.mu.Unlock()
}

func writeHist(b *strings.Builder, name, labels string, h *histogram) {
	sep := ""
	if labels != "" {
		sep = ","
	}
	for i, bound := range h.bounds {
		fmt.Fprintf(b, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, bound, h.counts[i])
	}
	fmt.Fprintf(b, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, h.n)
	fmt.Fprintf(b, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, h.sum, name, labels, h.n)
}

func (s *Server) metricsHandler(c *fiber.Ctx) error {
	if want := s.cfg.MetricsToken; want != "" {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return errStatus(fiber.StatusUnauthorized, "metrics need the metrics token")
		}
	}
	m := s.metrics
	var b strings.Builder
	m.mu.Lock()
	defer m.mu.Unlock() // also on a panic: a held lock would stop every request
	b.WriteString("# TYPE carevoice_http_requests_total counter\n")
	keys := make([][3]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return strings.Join(keys[i][:], " ") < strings.Join(keys[j][:], " ") })
	for _, k := range keys {
		fmt.Fprintf(&b, "carevoice_http_requests_total{method=%q,route=%q,status=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	b.WriteString("# TYPE carevoice_http_request_duration_seconds histogram\n")
	lkeys := make([][2]string, 0, len(m.latency))
	for k := range m.latency {
		lkeys = append(lkeys, k)
	}
	sort.Slice(lkeys, func(i, j int) bool { return lkeys[i][0]+lkeys[i][1] < lkeys[j][0]+lkeys[j][1] })
	for _, k := range lkeys {
		writeHist(&b, "carevoice_http_request_duration_seconds", fmt.Sprintf("method=%q,route=%q", k[0], k[1]), m.latency[k])
	}
	b.WriteString("# TYPE carevoice_commit_batch_size histogram\n")
	writeHist(&b, "carevoice_commit_batch_size", "", m.batch)
	b.WriteString("# TYPE carevoice_commit_duration_seconds histogram\n")
	writeHist(&b, "carevoice_commit_duration_seconds", "", m.commit)
	b.WriteString("# TYPE carevoice_analyzer_duration_seconds histogram\n")
	writeHist(&b, "carevoice_analyzer_duration_seconds", "", m.analyzer)
	b.WriteString("# TYPE carevoice_submissions_total counter\n")
	chans := make([]string, 0, len(m.submissions))
	for ch := range m.submissions {
		chans = append(chans, ch)
	}
	sort.Strings(chans)
	for _, ch := range chans {
		fmt.Fprintf(&b, "carevoice_submissions_total{channel=%q} %d\n", ch, m.submissions[ch])
	}
	b.WriteString("# TYPE carevoice_rate_limited_total counter\n")
	for _, k := range []string{"kiosk", "public"} {
		fmt.Fprintf(&b, "carevoice_rate_limited_total{principal=%q} %d\n", k, m.limited[k])
	}
	ws := s.store.WriterStats()
	fmt.Fprintf(&b, "# TYPE carevoice_submit_queue_depth gauge\ncarevoice_submit_queue_depth %d\n", ws.QueueDepth)
	fmt.Fprintf(&b, "# TYPE carevoice_submit_queue_capacity gauge\ncarevoice_submit_queue_capacity %d\n", ws.QueueCap)
	fmt.Fprintf(&b, "# TYPE carevoice_submit_busy_total counter\ncarevoice_submit_busy_total %d\n", ws.Rejected)
	fmt.Fprintf(&b, "# TYPE carevoice_submit_queued_total counter\ncarevoice_submit_queued_total %d\n", ws.Accepted)
	if d := s.dispatcher(); d != nil {
		// Alerts dropped because their in-memory queue was full: delivery
		// never blocks a submission, so this is where a backlog shows.
		fmt.Fprintf(&b, "# TYPE carevoice_alerts_dropped_total counter\ncarevoice_alerts_dropped_total %d\n", d.Dropped())
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4")
	return c.SendString(b.String())
}
