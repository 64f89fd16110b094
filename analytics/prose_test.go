package analytics

import (
	"testing"

	"github.com/jdkato/prose/v2"

	"github.com/carevoice/carevoice/analytics/internal/textfeat"
)

// These benchmarks measure the prose v2 pieces against the hand-written
// tokenizer on the dev comments; DEVELOPERS.md ("Analyzer costs") quotes them.
// One op is one comment.

func BenchmarkTokenizeOwn(b *testing.B) {
	rows := devComments(b)
	x := textfeat.NewExtractor()
	var toks []textfeat.Token
	var scratch []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		toks, scratch = x.Tokenize(rows[i%len(rows)].Text, toks[:0], scratch)
	}
}

func BenchmarkProseTokenize(b *testing.B) {
	rows := devComments(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := prose.NewDocument(rows[i%len(rows)].Text, prose.WithSegmentation(false),
			prose.WithTagging(false), prose.WithExtraction(false)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProseTag(b *testing.B) {
	rows := devComments(b)
	// The tagger model is built once and shared, as a real pipeline would.
	doc, err := prose.NewDocument("warm up", prose.WithSegmentation(false), prose.WithExtraction(false))
	if err != nil {
		b.Fatal(err)
	}
	model := doc.Model
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := prose.NewDocument(rows[i%len(rows)].Text, prose.UsingModel(model),
			prose.WithSegmentation(false), prose.WithExtraction(false)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProseSegment(b *testing.B) {
	rows := devComments(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := prose.NewDocument(rows[i%len(rows)].Text, prose.WithTokenization(false),
			prose.WithTagging(false), prose.WithExtraction(false)); err != nil {
			b.Fatal(err)
		}
	}
}
