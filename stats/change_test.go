package stats

import (
	"math/rand/v2"
	"testing"
)

func TestTwoProportionZ(t *testing.T) {
	tests := []struct {
		name           string
		k1, n1, k0, n0 int
		z, p           float64
	}{
		// Pooled 0.55, SE = √(0.55·0.45·(1/100+1/100)) = 0.070356, z = 0.1/0.070356 = 1.4213.
		{"SixtyVsFifty", 60, 100, 50, 100, 1.4213, 0.1552},
		{"Down", 50, 100, 60, 100, -1.4213, 0.1552},
		{"Identical", 30, 60, 30, 60, 0, 1},
		{"EmptyGroup", 3, 10, 0, 0, 0, 1},
		{"AllSame", 10, 10, 20, 20, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, p := TwoProportionZ(tt.k1, tt.n1, tt.k0, tt.n0)
			if !near(z, tt.z, 1e-4) || !near(p, tt.p, 1e-4) {
				t.Fatalf("got z %v p %v, want z %v p %v", z, p, tt.z, tt.p)
			}
		})
	}
}

func TestCompareProportions(t *testing.T) {
	tests := []struct {
		name           string
		k1, n1, k0, n0 int
		delta          *float64
		significant    bool
		suppressed     bool
	}{
		{name: "Significant", k1: 300, n1: 500, k0: 250, n0: 500, delta: ptr(10), significant: true},
		{name: "NotSignificant", k1: 6, n1: 10, k0: 5, n0: 10, delta: ptr(10)},
		{name: "CurrentSuppressed", k1: 6, n1: 9, k0: 5, n0: 10, suppressed: true},
		{name: "PreviousSuppressed", k1: 6, n1: 10, k0: 5, n0: 9, suppressed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := CompareProportions(tt.k1, tt.n1, tt.k0, tt.n0, 10, DefaultAlpha)
			if ch.Suppressed != tt.suppressed || ch.Significant != tt.significant {
				t.Fatalf("got suppressed %v significant %v, want %v %v", ch.Suppressed, ch.Significant, tt.suppressed, tt.significant)
			}
			if tt.delta == nil {
				if ch.DeltaPP != nil || ch.Note != "fewer than 10" {
					t.Fatalf("got delta %v note %q for a suppressed side", ch.DeltaPP, ch.Note)
				}
				return
			}
			if ch.DeltaPP == nil || !near(*ch.DeltaPP, *tt.delta, 1e-9) {
				t.Fatalf("got delta %v, want %v", ch.DeltaPP, *tt.delta)
			}
		})
	}
}

func TestCompareNPS(t *testing.T) {
	// Current: 60 promoters, 20 passives, 20 detractors → NPS 40, Var = 0.8 − 0.16 = 0.64.
	// Previous: 40/20/40 → NPS 0, Var = 0.8. SE = 100·√(0.64/100 + 0.8/100) = 12, z = 40/12.
	cur := NPSCounts{Promoters: 60, Passives: 20, Detractors: 20}
	prev := NPSCounts{Promoters: 40, Passives: 20, Detractors: 40}
	ch := CompareNPS(cur, prev, 10, DefaultAlpha)
	if ch.DeltaPP == nil || !near(*ch.DeltaPP, 40, 1e-9) || !near(ch.Z, 40.0/12, 1e-9) || !ch.Significant {
		t.Fatalf("got %+v, want delta 40, z 3.333, significant", ch)
	}
	t.Run("BothUnanimous", func(t *testing.T) {
		ch := CompareNPS(NPSCounts{Promoters: 20}, NPSCounts{Detractors: 20}, 10, DefaultAlpha)
		if !ch.Significant || *ch.DeltaPP != 200 {
			t.Fatalf("got %+v, want a certain +200 change", ch)
		}
	})
	t.Run("Suppressed", func(t *testing.T) {
		ch := CompareNPS(NPSCounts{Promoters: 9}, prev, 10, DefaultAlpha)
		if !ch.Suppressed || ch.DeltaPP != nil {
			t.Fatalf("got %+v, want suppressed", ch)
		}
	})
}

func TestBiggestMovers(t *testing.T) {
	in := []MoverInput{
		// A small site: 2/10 → 6/10 is +40 points but z ≈ 1.83.
		{Key: "small", Current: 6, CurrentN: 10, Previous: 2, PreviousN: 10},
		// A large site: 100/800 → 150/800 is +6.25 points and z ≈ 3.44.
		{Key: "large", Current: 150, CurrentN: 800, Previous: 100, PreviousN: 800},
		// A real fall.
		{Key: "falling", Current: 50, CurrentN: 400, Previous: 80, PreviousN: 400},
		// Too small to show at all.
		{Key: "tiny", Current: 5, CurrentN: 5, Previous: 0, PreviousN: 5},
	}
	got := BiggestMovers(in, 10, DefaultAlpha)
	var keys []string
	for _, m := range got {
		keys = append(keys, m.Key)
	}
	want := []string{"large", "falling", "small"}
	if len(keys) != len(want) {
		t.Fatalf("got %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("got %v, want %v", keys, want)
		}
	}
	if z := got[0].Change.Z; !near(z, 3.44, 0.01) {
		t.Fatalf("got z %v for large, want ≈3.44", z)
	}
	rising := TopRising(got, 3)
	if len(rising) != 1 || rising[0].Key != "large" {
		t.Fatalf("got rising %v, want only large (small is not significant, falling falls)", rising)
	}
}

func TestBinomialUpperTail(t *testing.T) {
	tests := []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 5, 0.3, 1},
		{6, 5, 0.3, 0},
		{5, 5, 0.5, 1.0 / 32},
		{3, 5, 0.5, 0.5},                       // symmetric
		{2, 4, 0.25, 1 - 81.0/256 - 108.0/256}, // 1 − P(0) − P(1)
		{1, 10, 0, 0},
	}
	for _, tt := range tests {
		if got := binomialUpperTail(tt.k, tt.n, tt.p); !near(got, tt.want, 1e-12) {
			t.Errorf("P(X≥%d | n=%d, p=%v): got %v, want %v", tt.k, tt.n, tt.p, got, tt.want)
		}
	}
	// A large baseline must neither overflow nor lose the tail.
	if got := binomialUpperTail(600, 5000, 0.1); got < 1e-7 || got > 1e-5 {
		t.Errorf("large n: got %v, want a tiny positive tail", got)
	}
}

func TestSpikeTest(t *testing.T) {
	cfg := DefaultSpikeConfig
	tests := []struct {
		name            string
		counts, volumes []int
		fired           bool
	}{
		// 100 comments a week, 5 % about waits; this week 20 of 100: a real rise.
		{"LargeSiteRealRise", []int{5, 4, 6, 5, 5, 6, 4, 5, 20}, []int{100, 100, 100, 100, 100, 100, 100, 100, 100}, true},
		// Same site, an ordinary week.
		{"LargeSiteOrdinary", []int{5, 4, 6, 5, 5, 6, 4, 5, 8}, []int{100, 100, 100, 100, 100, 100, 100, 100, 100}, false},
		// A small site: 10 comments a week, about 1 on waits; 3 this week is noise.
		{"SmallSiteNoise", []int{1, 0, 2, 1, 1, 0, 1, 2, 3}, []int{10, 10, 10, 10, 10, 10, 10, 10, 10}, false},
		// A small site where most comments this week are about waits: real.
		{"SmallSiteRealRise", []int{1, 0, 2, 1, 1, 0, 1, 2, 8}, []int{10, 10, 10, 10, 10, 10, 10, 10, 10}, true},
		// Twice the complaints in a week with twice the comments is not a spike.
		{"BusyWeekProportional", []int{5, 4, 6, 5, 5, 6, 4, 5, 20}, []int{100, 100, 100, 100, 100, 100, 100, 100, 400}, false},
		// From nothing to two: below MinCount however quiet the baseline.
		{"TwoFromZero", []int{0, 0, 0, 0, 0, 0, 0, 0, 2}, []int{30, 30, 30, 30, 30, 30, 30, 30, 30}, false},
		// No history yet.
		{"NewSite", []int{9}, []int{20}, false},
		// Only the last 8 weeks count: a noisy old history doesn't mask a rise.
		{"BaselineWindow", []int{50, 50, 50, 1, 1, 1, 1, 1, 1, 1, 1, 12}, []int{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := SpikeFromSeries(tt.counts, tt.volumes, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.Fired != tt.fired {
				t.Fatalf("got fired %v, want %v (%s; p=%g)", s.Fired, tt.fired, s.Reason, s.PValue)
			}
		})
	}
	t.Run("ErrLengths", func(t *testing.T) {
		if _, err := SpikeFromSeries([]int{1, 2}, []int{1}, cfg); err == nil {
			t.Fatal("got nil error for mismatched series")
		}
	})
}

// binomial draws Binomial(n, p) by counting coin flips; n is small here.
func binomial(r *rand.Rand, n int, p float64) int {
	k := 0
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

// TestSpikeSimulated checks the alarm rates on synthetic weekly series: under no change, a
// small site's noise must stay quiet; a tripled rate at a modest site must be caught.
func TestSpikeSimulated(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2025))
	const trials = 3000
	run := func(volume int, base, now float64) float64 {
		fired := 0
		for range trials {
			counts, vols := make([]int, 9), make([]int, 9)
			for w := range 9 {
				v := volume + r.IntN(volume/2+1) - volume/4 // weekly volume varies ±25 %
				p := base
				if w == 8 {
					p = now
				}
				counts[w], vols[w] = binomial(r, v, p), v
			}
			s, err := SpikeFromSeries(counts, vols, DefaultSpikeConfig)
			if err != nil {
				t.Fatal(err)
			}
			if s.Fired {
				fired++
			}
		}
		return float64(fired) / trials
	}
	tests := []struct {
		name             string
		volume           int
		base, now        float64
		minRate, maxRate float64
	}{
		{"SmallSiteNoNoise", 12, 0.15, 0.15, 0, 0.01},
		{"LargeSiteNoNoise", 300, 0.08, 0.08, 0, 0.01},
		{"ModestSiteTripled", 60, 0.08, 0.24, 0.7, 1},
		{"ModestSiteQuadrupled", 60, 0.08, 0.32, 0.9, 1},
		{"LargeSiteDoubled", 300, 0.08, 0.16, 0.85, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate := run(tt.volume, tt.base, tt.now)
			if rate < tt.minRate || rate > tt.maxRate {
				t.Fatalf("got alarm rate %.4f, want within [%v, %v]", rate, tt.minRate, tt.maxRate)
			}
			t.Logf("alarm rate %.4f", rate)
		})
	}
}
