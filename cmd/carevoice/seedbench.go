package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/demo"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// benchComments are the comment texts of the bench data; each is analysed
// once by the real analyzer and its result reused, which is what makes a
// million responses quick to build.
var benchComments = []struct{ text, intent string }{
	{"The nurse was so kind and made me feel at ease.", "praise"},
	{"Seen promptly even though it was busy.", "praise"},
	{"The doctor explained everything clearly and checked I understood.", "praise"},
	{"Excellent care, my pain is finally under control.", "praise"},
	{"The clinic was spotless and calm.", "praise"},
	{"Booking online was easy and I got an appointment the same week.", "praise"},
	{"I waited over two hours past my appointment time.", "improve"},
	{"The wait for a referral was far too long.", "improve"},
	{"Nobody answered the phone when I called three times.", "improve"},
	{"The receptionist was rude and dismissive.", "improve"},
	{"The doctor rushed me and did not listen to my concerns.", "improve"},
	{"I never got a call back about my test results.", "improve"},
	{"The bill had charges my insurance should have covered.", "improve"},
	{"Staff discussed my condition where others could overhear.", "improve"},
	{"Parking was impossible and the waiting room was cold.", "improve"},
	{"Nothing, it was all fine.", "improve"},
	{"Good care overall but the wait was long.", "open"},
	{"Friendly staff, though nobody told me about the delay.", "open"},
}

type benchAnswer struct {
	text   string
	intent string
	res    analytics.Result
}

// seedBench stores n synthetic responses over the last months months at the
// demo sites. SubmitResponse managed ~1,500 responses/s here (one savepoint
// and one small batch per group commit), so the bench loads in chunks
// through storage.BenchLoad, which writes the same rows and rollups (COPY on
// PostgreSQL).
func seedBench(ctx context.Context, st *storage.Store, n, months int, now time.Time, progress io.Writer) error {
	an, err := analytics.New()
	if err != nil {
		return err
	}
	var pool []benchAnswer
	for _, c := range benchComments {
		pool = append(pool, benchAnswer{c.text, c.intent, an.Analyze(c.text, analytics.Intent(c.intent))})
	}
	sites := make([]*storage.Site, len(demo.Sites))
	for i, s := range demo.Sites {
		if err := st.UpsertSite(ctx, s); err != nil {
			return err
		}
		if sites[i], err = st.Site(ctx, s.Slug); err != nil {
			return err
		}
	}
	start := now.AddDate(0, -months, 0)
	span := int64(now.Sub(start))
	rng := rand.New(rand.NewPCG(uint64(now.UnixNano()), 1))
	runID := now.UnixNano() & 0xffffffff
	// Big transactions: the rollup rows of a chunk are written once, and
	// one commit covers thousands of responses.
	const chunk = 5000
	for done := 0; done < n; {
		k := min(chunk, n-done)
		rs := make([]*storage.NewResponse, k)
		for i := range rs {
			rs[i] = benchResponse(rng, sites, pool, start.Add(time.Duration(rng.Int64N(span))),
				fmt.Sprintf("%08x-0000-4000-8000-%012x", runID, done+i))
		}
		if err := st.BenchLoad(ctx, rs); err != nil {
			return err
		}
		done += k
		if done%100000 == 0 {
			fmt.Fprintf(progress, "dashbench: %d of %d responses stored\n", done, n)
		}
	}
	return ctx.Err()
}

func benchResponse(rng *rand.Rand, sites []*storage.Site, pool []benchAnswer, at time.Time, id string) *storage.NewResponse {
	site := sites[rng.IntN(len(sites))]
	r := &storage.NewResponse{ID: id, SurveyVersion: 1, Site: site.Slug, Lang: "en", SubmittedAt: at,
		LocalDay: at.In(site.Location()).Format(time.DateOnly), Fingerprint: id, Channel: "link"}
	if rng.IntN(10) < 3 {
		r.Channel = "kiosk"
	}
	comment := func(q string, pos int) {
		a := pool[rng.IntN(len(pool))]
		text, res := a.text, a.res
		r.Answers = append(r.Answers, storage.NewAnswer{Question: q, Position: pos, Type: "text", Intent: a.intent, Text: &text, Analysis: &res})
	}
	switch x := rng.IntN(100); {
	case x < 6:
		r.Survey, r.Channel = "suggestion", "suggestion"
		comment("q1", 0)
		return r
	case x < 26:
		r.Survey = "nps"
		v := rng.IntN(11)
		r.NPS = &v
		r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "nps", Num: &v})
		if rng.IntN(10) < 6 {
			comment("q2", 1)
		}
	default:
		r.Survey = "fft"
		v := []int{1, 1, 1, 1, 2, 2, 2, 3, 4, 5, 0}[rng.IntN(11)]
		r.FFT = &v
		r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "rating5", Num: &v})
		if rng.IntN(2) == 0 {
			comment("q2", 1)
		}
		if rng.IntN(10) < 6 {
			comment("q3", 2)
		}
	}
	r.Department = site.Departments[rng.IntN(len(site.Departments))].Slug
	if rng.IntN(10) < 6 {
		r.Provider = site.Providers[rng.IntN(len(site.Providers))].Slug
	}
	return r
}

// cmdDashbench builds (or tops up) a database of --responses responses and
// measures the dashboard pages and stats endpoints against it.
func cmdDashbench(args []string) error {
	fs := flag.NewFlagSet("dashbench", flag.ContinueOnError)
	c := dbFlags(fs)
	n := fs.Int("responses", 1000000, "responses the database should hold")
	months := fs.Int("months", 12, "months of history for new responses")
	reqs := fs.Int("requests", 50, "requests per measured URL")
	seedOnly := fs.Bool("seed-only", false, "build the data, measure nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := newLogger()
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()
	have, err := st.CountResponses(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if missing := int64(*n) - have; missing > 0 {
		t0 := time.Now()
		if err := seedBench(ctx, st, int(missing), *months, now, os.Stderr); err != nil {
			return err
		}
		d := time.Since(t0)
		fmt.Printf("seeded %d responses in %s (%.0f responses/s)\n", missing, d.Round(time.Second), float64(missing)/d.Seconds())
	}
	// After a load, or a migration that filled new rollup tables, the
	// planner would otherwise see empty tables until autovacuum ran.
	t0 := time.Now()
	if err := st.BenchAnalyze(ctx); err != nil {
		return err
	}
	if st.Dialect() == "postgres" {
		fmt.Printf("vacuum analyze in %s\n", time.Since(t0).Round(time.Second))
	}
	if *seedOnly {
		return nil
	}
	return measureDashboard(ctx, st, c, *reqs)
}

func measureDashboard(ctx context.Context, st *storage.Store, c *config, reqs int) error {
	keys, err := secure.NewKeyring(secure.GenerateKey())
	if err != nil {
		return err
	}
	an, err := analytics.New()
	if err != nil {
		return err
	}
	_, app, err := api.New(api.Deps{Store: st, Analyzer: an, Keys: keys, Logger: newLogger(), Config: api.Config{MinCell: c.MinCell}})
	if err != nil {
		return err
	}
	tok, hash := secure.NewToken("cvt_")
	if err := st.CreateAPIToken(ctx, &storage.APIToken{Name: "dashbench", TokenHash: hash, Role: storage.RoleAdmin,
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go app.Listener(ln)
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}
	var urls []string
	for _, path := range []string{"/dashboard", "/dashboard/trends", "/dashboard/themes", "/dashboard/comments",
		"/api/v1/stats/summary", "/api/v1/stats/trend", "/api/v1/stats/themes"} {
		for _, q := range []string{"?period=30d", "?period=12m", "?period=90d&site=north&department=cardiology"} {
			urls = append(urls, path+q)
		}
	}
	urls = append(urls, "/dashboard/comments?period=12m&theme=privacy&polarity=negative",
		"/dashboard/comments?period=12m&q=referral", "/dashboard/trends?period=12m&granularity=week",
		// Survey and channel filters: whole months from the monthly
		// rollups, other days (and weeks) from the per-dimension ones.
		"/dashboard/themes?period=12m&survey=nps", "/api/v1/stats/summary?period=12m&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=week&survey=nps",
		// Week and day buckets with one provider, survey or channel, or a
		// survey and a channel (the per-dimension rollups); day buckets
		// without a filter, for comparison; a department or a provider
		// with another filter, which read the fine rollups by index.
		"/dashboard/trends?period=12m&granularity=week&provider=dr-patel", "/api/v1/stats/trend?period=12m&granularity=day&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=day", "/dashboard/themes?period=12m&granularity=day&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=week&site=north&survey=nps",
		"/dashboard/themes?period=12m&granularity=week&department=primary-care&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=week&survey=nps&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=week&provider=dr-patel&survey=fft",
		"/api/v1/stats/summary?period=12m&department=primary-care&survey=fft",
		// More provider combinations: with a channel (the fine rollups by
		// the provider's index, like a survey), a department (the
		// department-keyed per-dimension rollups), a site, and all at once.
		"/dashboard/themes?period=12m&granularity=week&provider=dr-patel&channel=kiosk",
		"/dashboard/themes?period=12m&granularity=week&provider=dr-patel&department=primary-care",
		"/api/v1/stats/themes?period=12m&provider=dr-patel&site=north",
		"/dashboard/themes?period=90d&site=north&department=primary-care&provider=dr-patel&survey=fft&channel=kiosk")
	fmt.Printf("%-70s %8s %8s %8s\n", "URL", "p50 ms", "p95 ms", "max ms")
	for _, u := range urls {
		var ds []time.Duration
		for i := 0; i < reqs+2; i++ {
			req, _ := http.NewRequestWithContext(ctx, "GET", base+u, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			if resp.StatusCode != 200 {
				return fmt.Errorf("%s: status %d", u, resp.StatusCode)
			}
			if i >= 2 { // the first two warm the caches
				ds = append(ds, d)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Printf("%-70s %8.1f %8.1f %8.1f\n", u, ms(ds[len(ds)/2]), ms(ds[(len(ds)*95+99)/100-1]), ms(ds[len(ds)-1]))
	}
	return nil
}
