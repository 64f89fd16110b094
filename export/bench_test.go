package export_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/export"
	"github.com/carevoice/carevoice/storage"
)

// The streaming benchmark. By default it exports 20,000 generated responses
// so that `go test -bench .` stays quick; the million-row figures in
// BENCHMARKS.md come from
//
//	CAREVOICE_BENCH_ROWS=1000000 CAREVOICE_BENCH_DB=/tmp/cv-bench.db \
//	  go test ./export -run '^$' -bench BenchmarkExport -benchtime 3x -timeout 30m
//
// CAREVOICE_BENCH_DB keeps the generated database between runs (it is filled
// only when it holds fewer rows than asked for). Reported: rows/s, and
// peak-heap-MB, the largest growth of the Go heap in use over its level
// before the export, sampled every 2 ms.

func benchStore(b *testing.B) (*storage.Store, int) {
	b.Helper()
	rows := 20000
	if v := os.Getenv("CAREVOICE_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CAREVOICE_BENCH_ROWS=%q", v)
		}
		rows = n
	}
	path := os.Getenv("CAREVOICE_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Seed(ctx, "UTC"); err != nil {
		b.Fatal(err)
	}
	have, err := st.CountResponses(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if int(have) < rows {
		b.Logf("generating %d responses in %s", rows-int(have), path)
		fillBench(b, st, rows-int(have))
	}
	return st, rows
}

// fillBench stores n synthetic fft responses (a rating, a praise and an
// improve comment with a fixed analysis) through the group writer.
func fillBench(b *testing.B, st *storage.Store, n int) {
	ctx := context.Background()
	zones := map[string]string{"north": "America/New_York", "central": "America/Chicago", "south": "Europe/Madrid"}
	locs := map[string]*time.Location{}
	for slug, tz := range zones {
		if err := st.UpsertSite(ctx, storage.Site{Slug: slug, Name: slug, TimeZone: tz,
			Departments: []storage.Department{{Slug: "cardiology", Name: "Cardiology"}}}); err != nil {
			b.Fatal(err)
		}
		locs[slug], _ = time.LoadLocation(tz)
	}
	sites := []string{"north", "central", "south"}
	praise := []string{"The nurse was kind and explained everything clearly.", "Seen quickly, thank you, great team!",
		"Muy amable la recepcionista, atención rápida 😊"}
	improve := []string{"Waited two hours, nobody told us why.", "Parking is impossible; \"reserved\" bays everywhere.",
		"Phone line rings out,\nplease hire more staff."}
	res := &analytics.Result{Sentiment: "negative", Score: -0.62, Version: "bench",
		Themes: []analytics.ThemeHit{{ID: "wait_times", Polarity: "negative", Evidence: "Waited two hours"}}}
	start := time.Now().Add(-365 * 24 * time.Hour)
	run := time.Now().UnixNano()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				site := sites[i%3]
				at := start.Add(time.Duration(i) * (365 * 24 * time.Hour / time.Duration(n)))
				fft := 1 + i%5
				p, q := praise[i%3], improve[i%3]
				r := &storage.NewResponse{ID: fmt.Sprintf("bench-%d-%d", run, i),
					Survey: "fft", SurveyVersion: 1, Site: site, Department: "cardiology", Channel: "kiosk", Lang: "en",
					SubmittedAt: at, LocalDay: at.In(locs[site]).Format(time.DateOnly), Fingerprint: strconv.Itoa(i), FFT: &fft,
					Answers: []storage.NewAnswer{
						{Question: "q1", Position: 0, Type: "rating5", Num: &fft},
						{Question: "q2", Position: 1, Type: "text", Intent: "praise", Text: &p, Analysis: res},
						{Question: "q3", Position: 2, Type: "text", Intent: "improve", Text: &q, Analysis: res},
					}}
				_, err := st.SubmitResponse(ctx, r)
				for err == storage.ErrBusy {
					time.Sleep(2 * time.Millisecond)
					_, err = st.SubmitResponse(ctx, r)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
}

// heapInuse reads the heap in use (live and not yet swept objects plus
// free space in spans in use: MemStats.HeapInuse) without stopping the world.
func heapInuse() uint64 {
	ss := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(ss)
	return ss[0].Value.Uint64() + ss[1].Value.Uint64()
}

// heapPeak samples the heap in use every 2 ms until stop is closed and
// returns the largest growth over base.
func heapPeak(stop <-chan struct{}, base uint64) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapInuse(); h > base && h-base > peak {
				peak = h - base
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func benchExport(b *testing.B, format string) {
	st, _ := benchStore(b)
	ctx := context.Background()
	runtime.GC()
	stop := make(chan struct{})
	peak := heapPeak(stop, heapInuse())
	cpu0 := cpuTime()
	b.ResetTimer()
	total := 0
	for i := 0; i < b.N; i++ {
		res, err := export.Write(ctx, st, io.Discard, export.Options{Format: format})
		if err != nil {
			b.Fatal(err)
		}
		total += res.Rows
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	// rows per CPU-second (all threads, SQLite included) does not depend on
	// what else the machine is running, unlike rows/s.
	b.ReportMetric(float64(total)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(total)/float64(b.N), "rows/op")
}

func BenchmarkExportResponses(b *testing.B) { benchExport(b, export.FormatResponses) }
func BenchmarkExportComments(b *testing.B)  { benchExport(b, export.FormatComments) }

// cpuTime is the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
