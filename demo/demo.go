// Package demo makes a year of believable patient feedback over three sites,
// with a seasonal wait-time problem at one of them, so that a new user sees
// a living product. Every response goes through the same intake path as a
// real one.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/intake"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// Options say how much to make.
type Options struct {
	Responses int
	Months    int
	Seed      uint64
	Now       time.Time
}

// Sites are the demo's clinics.
var Sites = []storage.Site{
	{Slug: "north", Name: "North Clinic", TimeZone: "America/New_York",
		Departments: []storage.Department{{Slug: "primary-care", Name: "Primary care"}, {Slug: "cardiology", Name: "Cardiology"}, {Slug: "radiology", Name: "Radiology"}},
		Providers:   []storage.Provider{{Slug: "dr-patel", Name: "Dr. Patel"}, {Slug: "dr-okafor", Name: "Dr. Okafor"}, {Slug: "np-garcia", Name: "NP Garcia"}}},
	{Slug: "central", Name: "Central Health Center", TimeZone: "America/Chicago",
		Departments: []storage.Department{{Slug: "primary-care", Name: "Primary care"}, {Slug: "pediatrics", Name: "Pediatrics"}, {Slug: "urgent-care", Name: "Urgent care"}},
		Providers:   []storage.Provider{{Slug: "dr-nguyen", Name: "Dr. Nguyen"}, {Slug: "dr-lopez", Name: "Dr. López"}}},
	{Slug: "south", Name: "South Family Practice", TimeZone: "America/Los_Angeles",
		Departments: []storage.Department{{Slug: "family-medicine", Name: "Family medicine"}, {Slug: "womens-health", Name: "Women's health"}},
		Providers:   []storage.Provider{{Slug: "dr-kim", Name: "Dr. Kim"}, {Slug: "pa-johnson", Name: "PA Johnson"}}},
}

// WaitTroubleSite is the site whose waits get worse in winter.
const WaitTroubleSite = "north"

// waitTrouble is how bad north's waits are in a month (0 = normal, 1 = worst):
// a winter peak, which also makes the last weeks of the demo year look worse
// than the weeks before.
func waitTrouble(site string, t time.Time) float64 {
	if site != WaitTroubleSite {
		return 0
	}
	switch t.Month() {
	case time.December, time.January:
		return 1
	case time.February, time.November:
		return 0.7
	case time.October:
		return 0.3
	}
	return 0
}

// Fill stores demo data: the three sites and opts.Responses responses spread
// over the last opts.Months months. It reports progress to progress.
func Fill(ctx context.Context, st *storage.Store, an *analytics.Analyzer, keys *secure.Keyring, opts Options, progress io.Writer) error {
	if opts.Responses <= 0 {
		opts.Responses = 20000
	}
	if opts.Months <= 0 {
		opts.Months = 12
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Seed == 0 {
		opts.Seed = 2026
	}
	sites := make([]*storage.Site, len(Sites))
	for i, s := range Sites {
		if err := st.UpsertSite(ctx, s); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		site, err := st.Site(ctx, s.Slug)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		sites[i] = site
	}
	defs := map[string]*survey.Survey{}
	for _, slug := range []string{"fft", "nps", "suggestion"} {
		d, err := st.Survey(ctx, slug)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defs[slug] = d
	}
	start := opts.Now.AddDate(0, -opts.Months, 0)
	span := opts.Now.Sub(start)

	// Workers build and submit in parallel so the group writer commits
	// many responses per transaction.
	jobs := make(chan int)
	var done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opts.Seed, uint64(w)))
			for i := range jobs {
				site := sites[(i*7+rng.IntN(3))%3]
				at := when(rng, start, span, i, opts.Responses)
				sub := makeSubmission(rng, site, at)
				def := defs[sub.Survey]
				answers, f := survey.ValidateAnswers(def, sub.Answers)
				if len(f) > 0 {
					errOnce.Do(func() { firstErr = fmt.Errorf("demo: generated an invalid response: %v", f) })
					continue
				}
				r, err := intake.Build(def, site, sub, answers, an, keys, at)
				if err == nil {
					_, err = st.SubmitResponse(ctx, r)
				}
				for errors.Is(err, storage.ErrBusy) {
					time.Sleep(5 * time.Millisecond)
					_, err = st.SubmitResponse(ctx, r)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("demo: %w", err) })
				}
				if n := done.Add(1); progress != nil && n%5000 == 0 {
					fmt.Fprintf(progress, "demo: %d of %d responses\n", n, opts.Responses)
				}
			}
		}(w)
	}
	for i := 0; i < opts.Responses && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// when spreads responses over the span, more on weekdays and in clinic hours.
func when(rng *rand.Rand, start time.Time, span time.Duration, i, n int) time.Time {
	for {
		t := start.Add(time.Duration(rng.Int64N(int64(span))))
		wd := t.Weekday()
		h := t.UTC().Hour() - 5 // roughly US clinic hours
		if h < 0 {
			h += 24
		}
		p := 1.0
		if wd == time.Saturday || wd == time.Sunday {
			p *= 0.25
		}
		if h < 8 || h > 19 {
			p *= 0.1
		}
		if rng.Float64() < p {
			return t
		}
	}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func makeSubmission(rng *rand.Rand, site *storage.Site, at time.Time) *survey.Submission {
	lang := "en"
	if rng.Float64() < 0.2 {
		lang = "es"
	}
	sub := &survey.Submission{ID: uuid.NewString(), Site: site.Slug, Lang: lang}
	dept := pick(rng, site.Departments)
	trouble := waitTrouble(site.Slug, at)
	// Satisfaction falls when waits are bad.
	mood := rng.NormFloat64()*0.9 + 1.1 - 1.4*trouble
	r := rng.Float64()
	switch {
	case r < 0.06:
		sub.Survey, sub.Channel = "suggestion", survey.ChannelSuggestion
		text := pick(rng, suggestions[lang])
		if mood < 0 && rng.Float64() < 0.6 {
			text = complaintText(rng, lang, trouble)
		}
		sub.Answers = []survey.Answer{textAnswer("q1", text), {Question: "q2", Value: quote(pick(rng, []string{"care", "staff", "waiting", "building", "other"}))}}
		return sub
	case r < 0.26:
		sub.Survey = "nps"
	default:
		sub.Survey = "fft"
	}
	sub.Department = dept.Slug
	if rng.Float64() < 0.6 && len(site.Providers) > 0 {
		sub.Provider = pick(rng, site.Providers).Slug
	}
	switch c := rng.Float64(); {
	case c < 0.4:
		sub.Channel = survey.ChannelLink
	case c < 0.7:
		sub.Channel = survey.ChannelKiosk
	default:
		// Answered invitations: the demo mints no tokens for visits that
		// never happened, but the channel mix should look like a clinic's.
		sub.Channel = survey.ChannelInvite
	}
	if sub.Survey == "fft" {
		rating := fftFrom(rng, mood)
		sub.Answers = append(sub.Answers, survey.Answer{Question: "q1", Value: []byte(strconv.Itoa(rating))})
		if rng.Float64() < 0.55 && rating != 0 && rating <= 3 {
			sub.Answers = append(sub.Answers, textAnswer("q2", praiseText(rng, lang)))
		}
		if rng.Float64() < 0.6 {
			if rating >= 3 || rng.Float64() < 0.25 {
				sub.Answers = append(sub.Answers, textAnswer("q3", complaintText(rng, lang, trouble)))
			} else {
				sub.Answers = append(sub.Answers, textAnswer("q3", pick(rng, nothing[lang])))
			}
		}
	} else {
		score := int(math.Round(math.Max(0, math.Min(10, 8+mood*1.6+rng.NormFloat64()))))
		sub.Answers = append(sub.Answers, survey.Answer{Question: "q1", Value: []byte(strconv.Itoa(score))})
		if rng.Float64() < 0.6 {
			text := praiseText(rng, lang)
			if score <= 6 {
				text = complaintText(rng, lang, trouble)
			} else if score <= 8 && rng.Float64() < 0.5 {
				text = praiseText(rng, lang) + " " + complaintText(rng, lang, trouble)
			}
			sub.Answers = append(sub.Answers, textAnswer("q2", text))
		}
	}
	if rng.Float64() < 0.04 {
		sub.Contact = &survey.Contact{OKToContact: true, Name: "Demo Patient", Phone: fmt.Sprintf("555-01%02d", rng.IntN(100))}
	}
	return sub
}

// fftFrom maps a mood to the FFT scale (1 very good … 5 very poor, 0 don't know).
func fftFrom(rng *rand.Rand, mood float64) int {
	if rng.Float64() < 0.02 {
		return 0
	}
	switch {
	case mood > 0.9:
		return 1
	case mood > 0.1:
		return 2
	case mood > -0.4:
		return 3
	case mood > -1.1:
		return 4
	}
	return 5
}

func praiseText(rng *rand.Rand, lang string) string {
	s := pick(rng, praise)
	if lang == "es" {
		return pick(rng, s.es)
	}
	return pick(rng, s.en)
}

func complaintText(rng *rand.Rand, lang string, trouble float64) string {
	s := pick(rng, complaints)
	if rng.Float64() < trouble*0.7 {
		s = complaints[0] // wait_times
	}
	if lang == "es" {
		return pick(rng, s.es)
	}
	return pick(rng, s.en)
}

func textAnswer(q, text string) survey.Answer { return survey.Answer{Question: q, Value: quote(text)} }

func quote(s string) []byte { b, _ := json.Marshal(s); return b }
