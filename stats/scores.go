package stats

import (
	"fmt"
	"math"
)

// FFTCounts holds the answers to one NHS Friends and Family Test question, by SPEC's rating5
// codes (1 very good … 5 very poor, 0 don't know). Rollups store exactly these six counters, so
// every FFT number can be recomputed from them without touching raw responses.
type FFTCounts struct {
	VeryGood int `json:"very_good"`
	Good     int `json:"good"`
	Neither  int `json:"neither"`
	Poor     int `json:"poor"`
	VeryPoor int `json:"very_poor"`
	DontKnow int `json:"dont_know"`
}

// AddAnswer counts one rating5 value. An out-of-range value is an error rather than being
// dropped, because silently shrinking the denominator would inflate % positive.
func (c *FFTCounts) AddAnswer(v int) error {
	switch v {
	case 0:
		c.DontKnow++
	case 1:
		c.VeryGood++
	case 2:
		c.Good++
	case 3:
		c.Neither++
	case 4:
		c.Poor++
	case 5:
		c.VeryPoor++
	default:
		return fmt.Errorf("stats: rating5 value %d outside 0–5", v)
	}
	return nil
}

// Add merges two count sets, for summing days into a period or sites into a trust.
func (c FFTCounts) Add(o FFTCounts) FFTCounts {
	return FFTCounts{c.VeryGood + o.VeryGood, c.Good + o.Good, c.Neither + o.Neither,
		c.Poor + o.Poor, c.VeryPoor + o.VeryPoor, c.DontKnow + o.DontKnow}
}

// Total is the FFT denominator. It includes "don't know" on purpose: SPEC follows NHS England,
// which counts every answer, so a rise in "don't know" lowers both % positive and % negative.
func (c FFTCounts) Total() int {
	return c.VeryGood + c.Good + c.Neither + c.Poor + c.VeryPoor + c.DontKnow
}

// Positive is very good + good.
func (c FFTCounts) Positive() int { return c.VeryGood + c.Good }

// Negative is poor + very poor.
func (c FFTCounts) Negative() int { return c.Poor + c.VeryPoor }

// PositiveRate is FFT % positive with its Wilson interval, suppressed below minCell answers.
func (c FFTCounts) PositiveRate(minCell int) Rate {
	return Proportion(c.Positive(), c.Total(), minCell)
}

// NegativeRate is FFT % negative with its Wilson interval, suppressed below minCell answers.
func (c FFTCounts) NegativeRate(minCell int) Rate {
	return Proportion(c.Negative(), c.Total(), minCell)
}

// NPSCounts holds answers to a 0–10 likelihood-to-recommend question by class.
type NPSCounts struct {
	Promoters  int `json:"promoters"`  // 9–10
	Passives   int `json:"passives"`   // 7–8
	Detractors int `json:"detractors"` // 0–6
}

// AddScore counts one 0–10 answer; out-of-range values are an error for the same reason as
// FFTCounts.AddAnswer.
func (c *NPSCounts) AddScore(v int) error {
	switch {
	case v >= 9 && v <= 10:
		c.Promoters++
	case v >= 7 && v <= 8:
		c.Passives++
	case v >= 0 && v <= 6:
		c.Detractors++
	default:
		return fmt.Errorf("stats: NPS value %d outside 0–10", v)
	}
	return nil
}

// Add merges two count sets.
func (c NPSCounts) Add(o NPSCounts) NPSCounts {
	return NPSCounts{c.Promoters + o.Promoters, c.Passives + o.Passives, c.Detractors + o.Detractors}
}

// Total is the number of NPS answers.
func (c NPSCounts) Total() int { return c.Promoters + c.Passives + c.Detractors }

// Score returns NPS = % promoters − % detractors on −100…100; ok is false with no answers.
func (c NPSCounts) Score() (nps float64, ok bool) {
	n := c.Total()
	if n <= 0 {
		return 0, false
	}
	return 100 * float64(c.Promoters-c.Detractors) / float64(n), true
}

// npsVariance is the per-answer variance of NPS on the −1…1 scale. Each answer is a trinomial
// draw scoring +1 (promoter), 0 (passive) or −1 (detractor), so
// Var = p₊ + p₋ − (p₊ − p₋)².
func npsVariance(prom, det, n float64) float64 {
	pp, pd := prom/n, det/n
	return pp + pd - (pp-pd)*(pp-pd)
}

// Interval returns NPS with a 95% confidence interval, in NPS points.
//
// Method: adjusted Wald on the promoter/passive/detractor trinomial. One pseudo-answer is added
// to each class (n+3) before computing the centre and the variance Var/n above, in the spirit of
// Agresti–Caffo; the plain Wald interval would be zero-width at NPS ±100 (all promoters is not
// certainty from ten answers) and too narrow for the small samples clinics have. The interval
// is clamped to −100…100 and widened if needed to contain the observed NPS, so a page never
// shows a score outside its own interval. ok is false with no answers.
func (c NPSCounts) Interval() (nps, low, high float64, ok bool) {
	nps, ok = c.Score()
	if !ok {
		return 0, -100, 100, false
	}
	pr, de := float64(c.Promoters)+1, float64(c.Detractors)+1
	n := float64(c.Total()) + 3
	centre := (pr - de) / n
	half := Z95 * math.Sqrt(npsVariance(pr, de, n)/n)
	low = max(-100, min(100*(centre-half), nps))
	high = min(100, max(100*(centre+half), nps))
	return nps, low, high, true
}

// Rate is NPS as a Rate (Value in NPS points) with the Interval above, suppressed below minCell.
func (c NPSCounts) Rate(minCell int) Rate {
	if r, ok := withheld(c.Total(), minCell); ok {
		return r
	}
	v, lo, hi, _ := c.Interval()
	return Rate{N: c.Total(), Value: ptr(v), Low: ptr(lo), High: ptr(hi)}
}

// standardError of NPS in NPS points, unadjusted: used by the comparison test, where the
// pseudo-counts of Interval would bias a difference between two large periods.
func (c NPSCounts) standardError() float64 {
	n := float64(c.Total())
	if n <= 0 {
		return math.Inf(1)
	}
	return 100 * math.Sqrt(npsVariance(float64(c.Promoters), float64(c.Detractors), n)/n)
}
