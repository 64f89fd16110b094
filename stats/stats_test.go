package stats

import (
	"encoding/json"
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestWilson(t *testing.T) {
	z2 := Z95 * Z95
	tests := []struct {
		name     string
		k, n     int
		lo, hi   float64
		tol      float64
		exactLo0 bool
		exactHi1 bool
	}{
		// Hand-computed: at k=0 the upper bound is z²/(n+z²); at k=n the lower is n/(n+z²).
		{name: "ZeroPercent", k: 0, n: 10, lo: 0, hi: z2 / (10 + z2), tol: 1e-12, exactLo0: true},
		{name: "HundredPercent", k: 10, n: 10, lo: 10 / (10 + z2), hi: 1, tol: 1e-12, exactHi1: true},
		// Textbook value for 5/10: 0.2366–0.7634.
		{name: "Half", k: 5, n: 10, lo: 0.2366, hi: 0.7634, tol: 5e-5},
		{name: "OneOfOne", k: 1, n: 1, lo: 1 / (1 + z2), hi: 1, tol: 1e-12, exactHi1: true},
		{name: "NoData", k: 0, n: 0, lo: 0, hi: 1, tol: 0},
		{name: "KAboveNClamped", k: 12, n: 10, lo: 10 / (10 + z2), hi: 1, tol: 1e-12},
		// 81/263 ≈ 30.8 %: 0.2555–0.3662 (Wilson, no continuity correction).
		{name: "Typical", k: 81, n: 263, lo: 0.2555, hi: 0.3662, tol: 5e-4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := Wilson(tt.k, tt.n, Z95)
			if !near(lo, tt.lo, tt.tol) || !near(hi, tt.hi, tt.tol) {
				t.Fatalf("got [%v, %v], want [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			if tt.exactLo0 && lo != 0 {
				t.Fatalf("got low %v, want exactly 0", lo)
			}
			if tt.exactHi1 && hi != 1 {
				t.Fatalf("got high %v, want exactly 1", hi)
			}
		})
	}
}

func TestFFT(t *testing.T) {
	// 5 very good, 3 good, 1 neither, 1 poor, 0 very poor, 2 don't know: n = 12 (don't know
	// counts), positive 8/12 = 66.67 %, negative 1/12 = 8.33 %.
	var c FFTCounts
	for _, v := range []int{1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 0, 0} {
		if err := c.AddAnswer(v); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		got  Rate
		want float64
	}{
		{"Positive", c.PositiveRate(10), 100 * 8.0 / 12},
		{"Negative", c.NegativeRate(10), 100 * 1.0 / 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.N != 12 {
				t.Fatalf("got n %d, want 12 (don't know is in the denominator)", tt.got.N)
			}
			if tt.got.Value == nil || !near(*tt.got.Value, tt.want, 1e-9) {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
			if *tt.got.Low > *tt.got.Value || *tt.got.High < *tt.got.Value {
				t.Fatalf("value %v outside its interval %s", *tt.got.Value, tt.got.IntervalString())
			}
		})
	}
	t.Run("ErrOutOfRange", func(t *testing.T) {
		for _, v := range []int{-1, 6} {
			if err := c.AddAnswer(v); err == nil {
				t.Fatalf("AddAnswer(%d): got nil error", v)
			}
		}
		if c.Total() != 12 {
			t.Fatalf("got total %d after bad answers, want 12", c.Total())
		}
	})
	t.Run("Add", func(t *testing.T) {
		if got := c.Add(c); got.Total() != 24 || got.Positive() != 16 || got.DontKnow != 4 {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestNPS(t *testing.T) {
	counts := func(scores ...int) NPSCounts {
		var c NPSCounts
		for _, s := range scores {
			if err := c.AddScore(s); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	tests := []struct {
		name           string
		c              NPSCounts
		nps            float64
		lo, hi, tolInt float64
	}{
		// Adjusted Wald by hand for 10 promoters: p₊=11/13, p₋=1/13, centre 10/13,
		// Var = 12/13 − (10/13)² = 0.331361, half = 1.96·√(0.331361/13) = 0.31292.
		{name: "AllPromoters", c: counts(9, 10, 9, 10, 9, 10, 9, 10, 9, 10), nps: 100, lo: 45.63, hi: 100, tolInt: 0.01},
		{name: "AllDetractors", c: counts(0, 1, 2, 3, 4, 5, 6, 0, 1, 2), nps: -100, lo: -100, hi: -45.63, tolInt: 0.01},
		{name: "AllPassives", c: counts(7, 8, 7, 8, 7, 8, 7, 8, 7, 8), nps: 0, lo: -100, hi: 100, tolInt: -1},
		// 5 promoters, 3 passives, 2 detractors: 50 − 20 = 30.
		{name: "Mixed", c: counts(9, 9, 10, 10, 10, 7, 8, 8, 6, 0), nps: 30, lo: -100, hi: 100, tolInt: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nps, lo, hi, ok := tt.c.Interval()
			if !ok || !near(nps, tt.nps, 1e-9) {
				t.Fatalf("got NPS %v (ok %v), want %v", nps, ok, tt.nps)
			}
			if lo < -100 || hi > 100 || lo > nps || hi < nps {
				t.Fatalf("interval [%v, %v] not within −100…100 around %v", lo, hi, nps)
			}
			if tt.tolInt >= 0 && (!near(lo, tt.lo, tt.tolInt) || !near(hi, tt.hi, tt.tolInt)) {
				t.Fatalf("got [%v, %v], want [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
		})
	}
	t.Run("Empty", func(t *testing.T) {
		if _, ok := (NPSCounts{}).Score(); ok {
			t.Fatal("got ok for no answers")
		}
		if r := (NPSCounts{}).Rate(0); r.Value != nil || r.Note != NoDataNote {
			t.Fatalf("got %+v, want no value with %q", r, NoDataNote)
		}
	})
	t.Run("ErrOutOfRange", func(t *testing.T) {
		var c NPSCounts
		for _, v := range []int{-1, 11} {
			if err := c.AddScore(v); err == nil {
				t.Fatalf("AddScore(%d): got nil error", v)
			}
		}
	})
}

func TestSuppression(t *testing.T) {
	tests := []struct {
		name       string
		rate       Rate
		suppressed bool
	}{
		{"ProportionMinCellMinus1", Proportion(5, 9, 10), true},
		{"ProportionMinCell", Proportion(5, 10, 10), false},
		{"FFTMinCellMinus1", FFTCounts{VeryGood: 9}.PositiveRate(10), true},
		{"FFTMinCell", FFTCounts{VeryGood: 9, DontKnow: 1}.PositiveRate(10), false},
		{"NPSMinCellMinus1", NPSCounts{Promoters: 9}.Rate(10), true},
		{"NPSMinCell", NPSCounts{Promoters: 9, Detractors: 1}.Rate(10), false},
		{"ZeroIsSuppressedToo", Proportion(0, 0, 10), true},
		{"DisabledShowsSmall", Proportion(1, 1, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rate
			if r.Suppressed != tt.suppressed {
				t.Fatalf("got suppressed %v, want %v (%+v)", r.Suppressed, tt.suppressed, r)
			}
			if tt.suppressed {
				if r.Value != nil || r.Low != nil || r.High != nil || r.Note != "fewer than 10" || r.String() != "fewer than 10" {
					t.Fatalf("suppressed rate leaks or lacks its note: %+v", r)
				}
			} else if r.Value == nil || r.Low == nil || r.High == nil {
				t.Fatalf("got no value for a shown rate: %+v", r)
			}
		})
	}
}

func TestRateJSON(t *testing.T) {
	tests := []struct {
		name string
		rate Rate
		want string
	}{
		{"Suppressed", Proportion(2, 4, 10), `{"n":4,"suppressed":true,"note":"fewer than 10"}`},
		{"NoData", Proportion(0, 0, 0), `{"n":0,"note":"no responses"}`},
		{"Shown", Proportion(0, 10, 10), `{"n":10,"value":0,"low":0,"high":27.75327998628892}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.rate)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestRateString(t *testing.T) {
	r := Proportion(2, 3, 0)
	if got := r.String(); got != "66.7" {
		t.Fatalf("got %q, want 66.7", got)
	}
	if got := r.IntervalString(); got == "" {
		t.Fatal("got empty interval for shown rate")
	}
}
