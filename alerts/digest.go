package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/carevoice/carevoice/storage"
)

// Delivery is the outbox row alerts write.
type Delivery = storage.Delivery

func spikeJSON(site string, sp ThemeSpike, link string) string {
	b, _ := json.Marshal(map[string]any{"event": KindSpike, "site": site, "theme": sp.Theme, "from": sp.From, "to": sp.To,
		"count": sp.Count, "volume": sp.Volume, "expected": sp.Expected, "p_value": sp.PValue,
		"test": "exact conditional test of two Poisson rates", "url": link})
	return string(b)
}

// Digests writes each manager's daily digest (new cases in the last day,
// cases due in the next day, overdue and open urgent cases) once per local
// day, from DigestHour on in the time zone of the manager's first site.
// A manager with nothing to report gets no mail.
func (d *Dispatcher) Digests(ctx context.Context) error {
	if d.cfg.SMTP.Host == "" {
		return nil
	}
	rcpts, err := d.st.AlertRecipients(ctx, "", false)
	if err != nil {
		return err
	}
	now := d.Now()
	for _, r := range rcpts {
		loc := time.UTC
		if len(r.Sites) > 0 {
			if site, err := d.st.Site(ctx, r.Sites[0]); err == nil {
				loc = site.Location()
			}
		}
		local := now.In(loc)
		if local.Hour() < d.cfg.DigestHour {
			continue
		}
		c, err := d.st.CaseDigest(ctx, r.Sites, now)
		if err != nil {
			return err
		}
		if c == (storage.CaseCounts{}) {
			continue
		}
		day := local.Format(time.DateOnly)
		subject := fmt.Sprintf("Follow-up cases for %s: %d overdue, %d due today", day, c.Overdue, c.DueSoon)
		body := fmt.Sprintf("Your follow-up cases on %s:\n\n  new in the last day:        %d\n  due in the next day:        %d\n  overdue (no contact yet):   %d\n  urgent and still open:      %d\n\nOpen the queue: %s/cases\n",
			day, c.New, c.DueSoon, c.Overdue, c.Urgent, d.cfg.BaseURL)
		if err := d.add(ctx, []Delivery{{Dedupe: KindDigest + ":" + r.Email + ":" + day, Kind: KindDigest,
			Channel: "email", Target: r.Email, Subject: subject, Payload: body}}); err != nil {
			return err
		}
	}
	return nil
}
