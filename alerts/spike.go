package alerts

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/carevoice/carevoice/stats"
)

// SpikeOptions tune theme-spike alerts.
type SpikeOptions struct {
	Test stats.SpikeConfig // zero value: stats.DefaultSpikeConfig
}

func (o SpikeOptions) withDefaults() SpikeOptions {
	if o.Test.Alpha == 0 {
		o.Test = stats.DefaultSpikeConfig
	}
	return o
}

// themeLabels are the SPEC names of the themes.
var themeLabels = map[string]string{
	"wait_times": "Wait times", "ignored": "Ignored", "dismissed": "Dismissed", "staff_attitude": "Staff attitude",
	"communication": "Communication", "access": "Access and scheduling", "environment": "Environment and comfort",
	"clinical_care": "Clinical care", "follow_up": "Follow-up", "billing": "Billing and cost", "privacy": "Privacy and dignity",
}

// ThemeSpike is one theme whose complaints this week rose significantly.
type ThemeSpike struct {
	Theme string
	From  string // first local day of the week under test
	To    string // last local day
	stats.Spike
}

// DetectSpikes tests every theme of one site. The week under test is the
// seven local days ending on last; the baseline is the cfg.BaselineWeeks
// seven-day blocks before it. Complaints are compared as a share of the
// comments written in the same days (stats.SpikeTest: the exact conditional
// test of two Poisson rates), so a busy week is not a spike by itself.
func DetectSpikes(comments map[string]int, complaints map[string]map[string]int, last time.Time, cfg stats.SpikeConfig) []ThemeSpike {
	weeks := cfg.BaselineWeeks + 1
	day := func(w, d int) string { // week w (0 = oldest), day d of 7
		return last.AddDate(0, 0, -(weeks-1-w)*7-(6-d)).Format(time.DateOnly)
	}
	volumes := make([]int, weeks)
	for w := range weeks {
		for d := range 7 {
			volumes[w] += comments[day(w, d)]
		}
	}
	themes := make([]string, 0, len(complaints))
	for t := range complaints {
		themes = append(themes, t)
	}
	sort.Strings(themes)
	var out []ThemeSpike
	for _, t := range themes {
		counts := make([]int, weeks)
		for w := range weeks {
			for d := range 7 {
				counts[w] += complaints[t][day(w, d)]
			}
		}
		s, err := stats.SpikeFromSeries(counts, volumes, cfg)
		if err == nil && s.Fired {
			out = append(out, ThemeSpike{Theme: t, From: day(weeks-1, 0), To: day(weeks-1, 6), Spike: s})
		}
	}
	return out
}

// Spikes runs DetectSpikes for every site on the seven complete local days
// before today and writes an alert for each spike, once per site, theme and
// ISO week.
func (d *Dispatcher) Spikes(ctx context.Context) error {
	sites, err := d.st.Sites(ctx, nil)
	if err != nil {
		return err
	}
	cfg := d.cfg.Spike.Test
	for _, site := range sites {
		y, m, dd := d.Now().In(site.Location()).Date()
		last := time.Date(y, m, dd-1, 12, 0, 0, 0, time.UTC)
		first := last.AddDate(0, 0, -7*(cfg.BaselineWeeks+1)+1)
		comments, complaints, err := d.st.ComplaintDays(ctx, site.Slug, first.Format(time.DateOnly), last.Format(time.DateOnly))
		if err != nil {
			return err
		}
		spikes := DetectSpikes(comments, complaints, last, cfg)
		if len(spikes) == 0 {
			continue
		}
		rcpts, err := d.st.AlertRecipients(ctx, site.Slug, false)
		if err != nil {
			return err
		}
		iy, iw := last.ISOWeek()
		for _, sp := range spikes {
			label := themeLabels[sp.Theme]
			if label == "" {
				label = sp.Theme
			}
			subject := fmt.Sprintf("Complaints about %s are up at %s", label, site.Name)
			link := d.cfg.BaseURL + "/dashboard/themes?site=" + site.Slug
			body := fmt.Sprintf("%s.\n\n%d complaints about %s in %d comments from %s to %s; %.1f expected at the rate of the %d weeks before (%d in %d comments).\nThat is %.1f times the usual rate; p = %.2g (exact conditional test of two Poisson rates, one-sided, alert below %.2g).\n\nSee the themes: %s\n",
				subject, sp.Count, label, sp.Volume, sp.From, sp.To, sp.Expected, cfg.BaselineWeeks, sp.BaseCount, sp.BaseVolume,
				sp.Ratio, sp.PValue, cfg.Alpha, link)
			key := fmt.Sprintf("%s:%s:%s:%d-W%02d", KindSpike, site.Slug, sp.Theme, iy, iw)
			var adds []Delivery
			if d.cfg.SMTP.Host != "" {
				for _, r := range rcpts {
					adds = append(adds, Delivery{Dedupe: key + ":email:" + r.Email, Kind: KindSpike, Channel: "email", Target: r.Email, Subject: subject, Payload: body})
				}
			}
			msg := spikeJSON(site.Slug, sp, link)
			for i, w := range d.cfg.Webhooks {
				adds = append(adds, Delivery{Dedupe: fmt.Sprintf("%s:webhook:%d", key, i), Kind: KindSpike, Channel: "webhook", Target: w.URL, Subject: subject, Payload: msg})
			}
			if err := d.add(ctx, adds); err != nil {
				return err
			}
		}
	}
	return nil
}
