package cases

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPrefilterChangesNothing: the literal pre-check only skips regular
// expressions that could not have matched. Checked on our own hits and
// near-misses and, where the repository's shared data sits beside it, on
// 3,000 real patient comments.
func TestPrefilterChangesNothing(t *testing.T) {
	corpus := []string{
		"I want to kill myself", "I felt unsafe on the ward", "She fell in the bathroom", "fell asleep in the waiting room",
		"they gave me the wrong medication", "Given double the dose", "me caí en el baño", "no me sentí segura",
		"better off dead", "safe and sound", "the nurse took care of my medication perfectly", "substance abuse service",
		"threatened to call security", "allergic to penicillin and they prescribed it anyway", "Tripped over a cable",
	}
	if f, err := os.Open(filepath.Join("..", "..", "shared", "data", "fft-dev.csv")); err == nil {
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows[1:] {
			corpus = append(corpus, r[2])
		}
	} else {
		t.Logf("real comments not found (%v); checking our own sentences only", err)
	}
	for _, text := range corpus {
		n := normalise(text)
		if got, want := urgentCategories(n, true), urgentCategories(n, false); !slices.Equal(got, want) {
			t.Errorf("%q: with pre-check %v, without %v", text, got, want)
		}
	}
}

func BenchmarkUrgentCategories(b *testing.B) {
	text := "The nurse was lovely but we waited over two hours and nobody explained what was happening with my mother's tests."
	for b.Loop() {
		UrgentCategories(text)
	}
}

func BenchmarkUrgentCategoriesNoPrecheck(b *testing.B) {
	text := normalise("The nurse was lovely but we waited over two hours and nobody explained what was happening with my mother's tests.")
	for b.Loop() {
		urgentCategories(text, false)
	}
}

// TestNormalise: the one-pass normalise gives what lower-casing, replacing
// curly quotes and backticks and folding white space give done one by one.
func TestNormalise(t *testing.T) {
	plain := func(s string) string {
		s = strings.ToLower(s)
		s = strings.NewReplacer("’", "'", "‘", "'", "`", "'").Replace(s)
		return strings.Join(strings.Fields(s), " ")
	}
	for _, in := range []string{
		"", "   ", "I Want  To\tKILL\r\nmyself ", "  don’t ‘leave’ me `here`  ", "ÉL SE CAYÓ\u00a0EN EL BAÑO",
		"bad \xff utf8 \xc3", "\u2003em\u2003space\u3000", "one", "a\n\n\nb",
	} {
		if got, want := normalise(in), plain(in); got != want {
			t.Errorf("normalise(%q) = %q, want %q", in, got, want)
		}
	}
}
