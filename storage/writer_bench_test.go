package storage_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// BenchmarkGroupCommit prices the storage side of a submission: 64
// goroutines (the load test's clients) submit responses shaped like the load
// test's (three sites, departments, providers, surveys and channels; one to
// three answers, comments tagged by the real analyzer; 1 in 20 with contact
// details, 1 in 4 opening a case) through the group writer into a SQLite
// file with synchronous=FULL. Besides ns/op it reports the process's CPU
// time per submission, which holds up better than wall time on a busy
// machine, and the mean batch.
//
//	go test -run XXX -bench GroupCommit -benchtime 20000x -count 3 ./storage/
//
// With CAREVOICE_BENCH_DB=file it starts from a copy of that SQLite file
// instead of an empty one (a `carevoice dashbench --seed-only` database),
// to price a submission in a database that already holds many responses.
func BenchmarkGroupCommit(b *testing.B) {
	ctx := context.Background()
	var s *storage.Store
	if src := os.Getenv("CAREVOICE_BENCH_DB"); src != "" {
		s = storagetest.SQLiteCopy(b, src)
	} else {
		s = storagetest.SQLite(b)
	}
	an, err := analytics.New()
	if err != nil {
		b.Fatal(err)
	}
	type siteDef struct {
		slug, tz string
		loc      *time.Location
	}
	sites := []siteDef{{"north", "Europe/London", nil}, {"south", "America/New_York", nil}, {"east", "Europe/Madrid", nil}}
	depts := []string{"cardiology", "outpatients", "emergency"}
	for i, st := range sites {
		if sites[i].loc, err = time.LoadLocation(st.tz); err != nil {
			b.Fatal(err)
		}
		site := storage.Site{Slug: st.slug, Name: st.slug, TimeZone: st.tz}
		for _, d := range depts {
			site.Departments = append(site.Departments, storage.Department{Slug: d, Name: d})
		}
		if err := s.UpsertSite(ctx, site); err != nil {
			b.Fatal(err)
		}
	}
	comments := []string{
		"The nurse was so kind and made me feel at ease.",
		"Waited over two hours past my appointment time and nobody told us why.",
		"Reception staff were rude when I asked how much longer it would be.",
		"I phoned three times about my test results and no one ever called back.",
		"Nothing, everything was perfect.",
		"The doctor rushed me and didn't listen to my concerns about the side effects.",
		"Friendly staff but the wait was too long and the chairs are uncomfortable.",
		"My referral was lost and I had to start again, very frustrating.",
		"El médico fue muy amable pero la espera fue demasiado larga.",
		"ok",
	}
	analyses := make([]analytics.Result, len(comments))
	for i, c := range comments {
		analyses[i] = an.Analyze(c, analytics.IntentOpen)
	}
	var seq atomic.Int64
	build := func(rng *mrand.Rand) *storage.NewResponse {
		n := seq.Add(1)
		st := sites[rng.IntN(len(sites))]
		at := time.Now()
		// UUIDv7, as our forms and kiosks make them (time first).
		ms := at.UnixMilli()
		id := fmt.Sprintf("%08x-%04x-7%03x-8%03x-%012x", ms>>16, ms&0xffff, rng.IntN(1<<12), rng.IntN(1<<12), n)
		r := &storage.NewResponse{ID: id, SurveyVersion: 1, Site: st.slug, Lang: "en", SubmittedAt: at,
			LocalDay: at.In(st.loc).Format(time.DateOnly), Fingerprint: id, Channel: "link"}
		switch k := rng.IntN(20); {
		case k >= 17:
			r.Survey, r.Channel = "suggestion", "suggestion"
		case k >= 12:
			r.Survey = "nps"
		default:
			r.Survey = "fft"
		}
		if r.Channel != "suggestion" && rng.IntN(4) > 0 {
			r.Department = depts[rng.IntN(len(depts))]
		}
		v := rng.IntN(6)
		if r.Survey == "nps" {
			v = rng.IntN(11)
			r.NPS = &v
			r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "nps", Num: &v})
		} else if r.Survey == "fft" {
			r.FFT = &v
			r.Answers = append(r.Answers, storage.NewAnswer{Question: "q1", Type: "rating5", Num: &v})
		}
		for q := 2; q <= 3; q++ {
			if q == 3 && rng.IntN(2) == 0 {
				continue
			}
			i := rng.IntN(len(comments))
			text, res := comments[i], analyses[i]
			r.Answers = append(r.Answers, storage.NewAnswer{Question: fmt.Sprint("q", q), Position: q - 1, Type: "text",
				Intent: "open", Text: &text, Analysis: &res})
		}
		if rng.IntN(20) == 0 {
			r.Contact, r.WantsContact = []byte("sealed contact details, about this long"), true
		}
		if rng.IntN(4) == 0 {
			r.Case = &storage.NewCase{Reason: "ignored", DueAt: at.Add(48 * time.Hour).UnixMilli()}
		}
		return r
	}
	// Warm up: the writer prepares its statements when it starts.
	warm := mrand.New(mrand.NewPCG(99, 7))
	for i := 0; i < 100; i++ {
		if _, err := s.SubmitResponse(ctx, build(warm)); err != nil {
			b.Fatal(err)
		}
	}
	var batches, batched atomic.Int64
	s.SetBatchObserver(func(size int, _ time.Duration) { batches.Add(1); batched.Add(int64(size)) })
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	const clients = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), 7))
			for next.Add(1) <= int64(b.N) {
				rec, err := s.SubmitResponse(ctx, build(rng))
				if err != nil || rec.Outcome != storage.Created {
					b.Errorf("submit: %v %v", rec.Outcome, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if n := batches.Load(); n > 0 {
		b.ReportMetric(float64(batched.Load())/float64(n), "batch")
	}
}
