// Package alerts tells staff about follow-up cases: an urgent case at once,
// optionally every new case, a daily digest per manager, and a theme spike.
// Messages go by email (SMTP with STARTTLS) and signed webhooks.
//
// Delivery never blocks a submission: Enqueue only puts an event on an
// in-memory queue (and drops it, counted, when the queue is full); a
// background loop writes each message to the persisted outbox and sends it,
// retrying with backoff and logging every attempt. A message is never sent
// with comment text or contact details: it names the case and links to it.
package alerts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/storage"
)

// Event kinds.
const (
	KindUrgent  = "case.urgent"
	KindNewCase = "case.new"
	KindDigest  = "digest"
	KindSpike   = "theme.spike"
)

// Event is something that happened in the request path.
type Event struct {
	Kind    string
	CaseID  int64
	Site    string
	Reasons []string
	DueAt   time.Time
}

// Config says where alerts go and how hard to try.
type Config struct {
	SMTP     SMTP
	Webhooks []Webhook
	// BaseURL makes links in messages absolute ("https://feedback.example.org").
	BaseURL string
	// Backoff is the wait before each retry; a delivery is given up after
	// len(Backoff)+1 attempts. Default 30s, 2m, 10m, 30m, 2h, 6h.
	Backoff     []time.Duration
	QueueSize   int           // in-memory events; default 1024
	Workers     int           // concurrent sends; default 4
	HTTPTimeout time.Duration // per webhook try; default 10s
	// DigestHour is the local hour (in the manager's first site's time
	// zone) from which the daily digest goes out; default 7.
	DigestHour int
	Spike      SpikeOptions
	// Tick is how often the loop looks for due retries, digests and
	// spikes; default 30s.
	Tick time.Duration
}

// Webhook is one receiver of JSON alerts.
type Webhook struct {
	URL    string
	Secret string // HMAC-SHA256 key for the signature header
}

// Enabled reports whether any channel is configured.
func (c Config) Enabled() bool { return c.SMTP.Host != "" || len(c.Webhooks) > 0 }

// Dispatcher queues, stores and sends alerts.
type Dispatcher struct {
	st  *storage.Store
	cfg Config
	log *slog.Logger
	// Now is the clock; tests replace it before Run.
	Now func() time.Time

	queue   chan Event
	dropped atomic.Int64
	sem     chan struct{}
	wg      sync.WaitGroup
	sending sync.Mutex // one ProcessDue at a time per instance
	running atomic.Bool
	again   atomic.Bool
	lastRun map[string]time.Time
}

// New makes a dispatcher; call Run to start it.
func New(st *storage.Store, cfg Config, log *slog.Logger) *Dispatcher {
	if len(cfg.Backoff) == 0 {
		cfg.Backoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, 2 * time.Hour, 6 * time.Hour}
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 10 * time.Second
	}
	if cfg.DigestHour <= 0 || cfg.DigestHour > 23 {
		cfg.DigestHour = 7
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 30 * time.Second
	}
	cfg.Spike = cfg.Spike.withDefaults()
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Dispatcher{st: st, cfg: cfg, log: log, Now: time.Now, queue: make(chan Event, cfg.QueueSize),
		sem: make(chan struct{}, cfg.Workers), lastRun: map[string]time.Time{}}
}

// Enqueue hands an event to the background loop. It never blocks: when the
// queue is full the event is dropped and counted (the case itself is safe in
// the database and shows in the queue and the next digest).
func (d *Dispatcher) Enqueue(ev Event) bool {
	if d == nil {
		return false
	}
	select {
	case d.queue <- ev:
		return true
	default:
		n := d.dropped.Add(1)
		d.log.Warn("alert queue full: event dropped", "kind", ev.Kind, "case", ev.CaseID, "dropped_total", n)
		return false
	}
}

// Dropped is how many events a full queue has dropped.
func (d *Dispatcher) Dropped() int64 { return d.dropped.Load() }

// Run plans and sends alerts until ctx ends, then waits for sends in flight.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	defer d.wg.Wait()
	d.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-d.queue:
			if err := d.Plan(ctx, ev); err != nil {
				d.log.Error("alert: plan", "kind", ev.Kind, "case", ev.CaseID, "err", err)
			}
			d.sweep(ctx)
		case <-t.C:
			if err := d.Periodic(ctx); err != nil {
				d.log.Error("alert: periodic", "err", err)
			}
			d.sweep(ctx)
		}
	}
}

// sweep starts sending what is due without waiting for it. While a sweep
// runs, a new request only asks it to go round once more, so a slow receiver
// never piles up goroutines.
func (d *Dispatcher) sweep(ctx context.Context) {
	d.again.Store(true)
	if !d.running.CompareAndSwap(false, true) {
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			for d.again.Swap(false) {
				if _, err := d.ProcessDue(ctx); err != nil && ctx.Err() == nil {
					d.log.Error("alert: send", "err", err)
				}
			}
			d.running.Store(false)
			// A request that came between the last round and the line
			// above would otherwise wait for the next tick.
			if !d.again.Load() || !d.running.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// Periodic writes the daily digests and the spike alerts that are due; their
// dedupe keys make running it often harmless.
func (d *Dispatcher) Periodic(ctx context.Context) error {
	now := d.Now()
	var errs []error
	if now.Sub(d.lastRun["digest"]) >= 10*time.Minute {
		d.lastRun["digest"] = now
		errs = append(errs, d.Digests(ctx))
	}
	if now.Sub(d.lastRun["spike"]) >= time.Hour {
		d.lastRun["spike"] = now
		errs = append(errs, d.Spikes(ctx))
	}
	return errors.Join(errs...)
}

// caseMessage is the JSON body of a case webhook: ids and codes, no text
// a patient wrote and no contact details.
type caseMessage struct {
	Event   string   `json:"event"`
	Case    int64    `json:"case"`
	Site    string   `json:"site"`
	Urgent  bool     `json:"urgent"`
	Reasons []string `json:"reasons"`
	DueAt   string   `json:"due_at"`
	URL     string   `json:"url"`
}

// Plan writes the messages of an event to the outbox.
func (d *Dispatcher) Plan(ctx context.Context, ev Event) error {
	switch ev.Kind {
	case KindUrgent, KindNewCase:
	default:
		return fmt.Errorf("alerts: unknown event kind %q", ev.Kind)
	}
	urgent := ev.Kind == KindUrgent
	// Urgent cases also go to admins, so that a site without a manager is
	// never silent.
	rcpts, err := d.st.AlertRecipients(ctx, ev.Site, urgent)
	if err != nil {
		return err
	}
	link := d.cfg.BaseURL + "/cases/" + strconv.FormatInt(ev.CaseID, 10)
	var labels []string
	for _, r := range ev.Reasons {
		labels = append(labels, cases.ReasonLabel(r))
	}
	subject := fmt.Sprintf("New follow-up case #%d at %s", ev.CaseID, ev.Site)
	if urgent {
		subject = fmt.Sprintf("URGENT follow-up case #%d at %s", ev.CaseID, ev.Site)
	}
	body := fmt.Sprintf("%s\n\nWhy: %s\nFirst contact due: %s\n\nOpen the case: %s\n\nThis message carries no patient details: sign in to see them.\n",
		subject, strings.Join(labels, "; "), ev.DueAt.UTC().Format(time.RFC1123), link)
	var adds []storage.Delivery
	if d.cfg.SMTP.Host != "" {
		for _, r := range rcpts {
			adds = append(adds, storage.Delivery{Dedupe: fmt.Sprintf("%s:%d:email:%s", ev.Kind, ev.CaseID, r.Email),
				Kind: ev.Kind, Channel: "email", Target: r.Email, Subject: subject, Payload: body})
		}
	}
	msg, _ := json.Marshal(caseMessage{Event: ev.Kind, Case: ev.CaseID, Site: ev.Site, Urgent: urgent, Reasons: ev.Reasons,
		DueAt: ev.DueAt.UTC().Format(time.RFC3339), URL: link})
	for i, w := range d.cfg.Webhooks {
		adds = append(adds, storage.Delivery{Dedupe: fmt.Sprintf("%s:%d:webhook:%d", ev.Kind, ev.CaseID, i),
			Kind: ev.Kind, Channel: "webhook", Target: w.URL, Subject: subject, Payload: string(msg)})
	}
	return d.add(ctx, adds)
}

func (d *Dispatcher) add(ctx context.Context, ds []storage.Delivery) error {
	for i := range ds {
		if ds[i].NextAt.IsZero() {
			ds[i].NextAt = d.Now()
		}
		if _, err := d.st.AddDelivery(ctx, &ds[i]); err != nil {
			return err
		}
	}
	return nil
}

// ProcessDue sends every due delivery, up to Workers at a time, and returns
// once all have been tried, with the number tried.
func (d *Dispatcher) ProcessDue(ctx context.Context) (int, error) {
	d.sending.Lock()
	defer d.sending.Unlock()
	total := 0
	for {
		// The lease outlasts the slowest try, so a delivery in flight is
		// never picked up twice.
		batch, err := d.st.ClaimDeliveries(ctx, d.Now(), 2*d.cfg.HTTPTimeout+time.Minute, 50)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		var wg sync.WaitGroup
		for _, del := range batch {
			d.sem <- struct{}{}
			wg.Add(1)
			go func(del storage.Delivery) {
				defer func() { <-d.sem; wg.Done() }()
				d.attempt(ctx, del)
			}(del)
		}
		wg.Wait()
		total += len(batch)
	}
}

// attempt makes one try and records it.
func (d *Dispatcher) attempt(ctx context.Context, del storage.Delivery) {
	start := d.Now()
	code, err := d.send(ctx, del)
	a := storage.DeliveryAttempt{At: start, OK: err == nil, StatusCode: code, Duration: d.Now().Sub(start)}
	status, next := "sent", d.Now()
	if err != nil {
		a.Error = truncate(err.Error(), 300)
		n := del.Attempts + 1
		if n > len(d.cfg.Backoff) {
			status = "failed"
		} else {
			status, next = "pending", d.Now().Add(d.cfg.Backoff[n-1])
		}
		d.log.Warn("alert: delivery failed", "delivery", del.ID, "kind", del.Kind, "channel", del.Channel, "attempt", n, "status", status, "err", a.Error)
	}
	// Recorded even when ctx has ended, so a try is never lost from the log.
	if rerr := d.st.RecordAttempt(context.WithoutCancel(ctx), del.ID, a, status, next); rerr != nil {
		d.log.Error("alert: record attempt", "delivery", del.ID, "err", rerr)
	}
}

func (d *Dispatcher) send(ctx context.Context, del storage.Delivery) (int, error) {
	switch del.Channel {
	case "email":
		return 0, d.cfg.SMTP.Send(ctx, []string{del.Target}, del.Subject, del.Payload)
	case "webhook":
		for _, w := range d.cfg.Webhooks {
			if w.URL == del.Target {
				// Signed with the wall clock: receivers check it against theirs.
				return postWebhook(ctx, w, del, d.cfg.HTTPTimeout, time.Now())
			}
		}
		return 0, errors.New("webhook no longer configured")
	}
	return 0, fmt.Errorf("unknown channel %q", del.Channel)
}

// Sign returns the signature header value for body at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">". Receivers
// recompute it and refuse old timestamps, which stops replays.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body with a tolerance for clock
// skew; receivers written in Go may use it.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts string
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(part, "t="); ok {
			ts = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	t := time.Unix(sec, 0)
	if now.Sub(t) > tolerance || t.Sub(now) > tolerance {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, t, body)), []byte(header))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
