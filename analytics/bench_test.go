package analytics

import (
	"os"
	"path/filepath"
	"testing"
)

// devPath is the shared dev file, which lives beside the repository
// (../shared/data/fft-dev.csv from the module root); tb skips without it.
func devPath(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			path := filepath.Join(d, "..", "shared", "data", "fft-dev.csv")
			if _, err := os.Stat(path); err != nil {
				tb.Skipf("dev comments not available (%v); this needs ../shared/data/fft-dev.csv beside the repository", err)
			}
			return path
		}
		if filepath.Dir(d) == d {
			tb.Skip("module root not found")
		}
	}
}

// devComments loads the comments of the shared dev file.
func devComments(tb testing.TB) []Labelled {
	tb.Helper()
	return readLabelled(tb, devPath(tb))
}

// BenchmarkAnalyze runs the analyzer over the dev comments on one goroutine;
// one op is one comment.
func BenchmarkAnalyze(b *testing.B) {
	rows := devComments(b)
	a, err := New()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &rows[i%len(rows)]
		a.Analyze(r.Text, r.Intent)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comments/s")
}

// BenchmarkNew is the analyzer's start-up: lexicons, model, and the word
// vectors projected onto the model's weights (the table itself is decoded
// once per process and not counted after the first op).
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}
