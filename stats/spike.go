package stats

import (
	"fmt"
	"math"
)

// SpikeConfig tunes the theme-spike alert. The zero value is not useful; start from
// DefaultSpikeConfig.
type SpikeConfig struct {
	// Alpha is the one-sided significance level. 1% rather than 5% because the test runs every
	// week for every theme at every site (11 themes × sites × 52 weeks), and at 5% a clinic
	// would get a false alarm most weeks.
	Alpha float64
	// MinCount is the fewest complaints this week that may fire at all: two complaints are
	// never a spike worth an email, however quiet the baseline was.
	MinCount int
	// MinRatio is the smallest rise of the rate (this week over baseline) that may fire, so that
	// a large site cannot alert on a statistically certain but trivial 5% drift.
	MinRatio float64
	// BaselineWeeks is how many trailing weeks form the baseline (issue 8: 8).
	BaselineWeeks int
}

// DefaultSpikeConfig is the alerting default.
var DefaultSpikeConfig = SpikeConfig{Alpha: 0.01, MinCount: 3, MinRatio: 1.5, BaselineWeeks: 8}

// Spike is the outcome of one spike test, kept whole so an alert can say why it fired.
type Spike struct {
	Count      int     `json:"count"`       // complaints in the theme this week
	Volume     int     `json:"volume"`      // comments (or responses) this week
	BaseCount  int     `json:"base_count"`  // complaints in the baseline weeks
	BaseVolume int     `json:"base_volume"` // volume in the baseline weeks
	Expected   float64 `json:"expected"`    // complaints expected this week at the baseline rate
	Ratio      float64 `json:"ratio"`       // observed / expected rate; +Inf for a zero baseline
	PValue     float64 `json:"p_value"`     // one-sided, see SpikeTest
	Fired      bool    `json:"fired"`
	Reason     string  `json:"reason"`
}

// SpikeTest asks whether this week's complaints in a theme at a site are significantly above
// the site's trailing baseline rate, relative to volume.
//
// Test: the exact conditional test for two Poisson rates (Przyborowski & Wilenski, 1940).
// Complaints this week X ~ Poisson(λ·volume) and in the baseline Y ~ Poisson(λ₀·baseVolume).
// Conditional on the total m = X + Y, under H₀: λ = λ₀,
//
//	X ~ Binomial(m, volume / (volume + baseVolume)),
//
// and the one-sided p-value is P(X ≥ count). Conditioning removes the unknown rate, it is exact
// for the small counts a small clinic has (no normal approximation that would fire on 0 → 2),
// and dividing by volume means a busy week with proportionally more complaints is not a spike.
// Pass volumes of 1 and the number of baseline weeks to test raw counts per week instead.
//
// It fires when p < Alpha, count ≥ MinCount and the rate ratio ≥ MinRatio. With no baseline
// volume there is no history to compare with and it never fires.
func SpikeTest(count, volume, baseCount, baseVolume int, cfg SpikeConfig) Spike {
	s := Spike{Count: count, Volume: volume, BaseCount: baseCount, BaseVolume: baseVolume, PValue: 1}
	if volume <= 0 || baseVolume <= 0 {
		s.Reason = "no volume this week or no baseline history"
		return s
	}
	share := float64(volume) / float64(volume+baseVolume)
	s.Expected = float64(baseCount) * float64(volume) / float64(baseVolume)
	switch {
	case baseCount == 0 && count > 0:
		s.Ratio = math.Inf(1)
	case baseCount == 0:
		s.Ratio = 1
	default:
		s.Ratio = float64(count) / s.Expected
	}
	s.PValue = binomialUpperTail(count, count+baseCount, share)
	switch {
	case count < cfg.MinCount:
		s.Reason = fmt.Sprintf("only %d complaints this week (minimum %d)", count, cfg.MinCount)
	case s.Ratio < cfg.MinRatio:
		s.Reason = fmt.Sprintf("rate %.2f× baseline, below %.2f×", s.Ratio, cfg.MinRatio)
	case s.PValue >= cfg.Alpha:
		s.Reason = fmt.Sprintf("p = %.3g, not below %.3g", s.PValue, cfg.Alpha)
	default:
		s.Fired = true
		s.Reason = fmt.Sprintf("%d complaints vs %.1f expected (%.1f×), p = %.2g", count, s.Expected, s.Ratio, s.PValue)
	}
	return s
}

// SpikeFromSeries runs SpikeTest on weekly series ordered oldest first, whose last element is
// the week under test and whose preceding cfg.BaselineWeeks elements form the baseline (fewer
// if the site is new). counts and volumes must have the same length.
func SpikeFromSeries(counts, volumes []int, cfg SpikeConfig) (Spike, error) {
	if len(counts) != len(volumes) {
		return Spike{}, fmt.Errorf("stats: %d weekly counts but %d volumes", len(counts), len(volumes))
	}
	if len(counts) == 0 {
		return Spike{}, fmt.Errorf("stats: empty series")
	}
	last := len(counts) - 1
	var bc, bv int
	for i := max(0, last-cfg.BaselineWeeks); i < last; i++ {
		bc += counts[i]
		bv += volumes[i]
	}
	return SpikeTest(counts[last], volumes[last], bc, bv, cfg), nil
}

// binomialUpperTail returns P(X ≥ k) for X ~ Binomial(n, p), summing terms in log space so that
// large baselines (thousands of comments) neither overflow nor underflow.
func binomialUpperTail(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	lgN, _ := math.Lgamma(float64(n + 1))
	sum := 0.0
	for i := k; i <= n; i++ {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		term := math.Exp(lgN - a - b + float64(i)*lp + float64(n-i)*lq)
		sum += term
		// Terms past the mode shrink geometrically; stop once they no longer matter.
		if float64(i) > float64(n)*p && term < sum*1e-16 {
			break
		}
	}
	return min(sum, 1)
}
