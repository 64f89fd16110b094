// Package stats holds the score math shared by the dashboard, the stats API, the exports and
// the alerts, so that a number means the same thing wherever a user meets it. It is pure: it
// takes counts and times and never touches the database.
package stats

import "math"

// Z95 is the two-sided 95% normal quantile. We keep the exact value rather than 1.96 so that
// hand-computed test cases and other tools (R's qnorm(0.975)) agree to many digits.
const Z95 = 1.959963984540054

// Wilson returns the Wilson score interval for k successes out of n, as proportions in [0, 1].
//
// Wilson rather than the textbook Wald interval because clinic segments are small and rates are
// often near 0 % or 100 %: Wald collapses to a zero-width interval there ("100 % ± 0") and can
// leave [0, 1], which would tell a manager a 9-out-of-9 week is certain. With n = 0 nothing is
// known, so the whole range is returned. k is clamped into [0, n] so a caller's off-by-one
// cannot produce NaN.
func Wilson(k, n int, z float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	k = min(max(k, 0), n)
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	denom := 1 + z2/nf
	centre := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	low, high = centre-half, centre+half
	// At the edges the formula is exactly 0 or 1 on paper; floating point leaves 1e-17 crumbs
	// that would print as "-0.0 %" or fail equality checks in exports.
	if k == 0 {
		low = 0
	}
	if k == n {
		high = 1
	}
	return max(low, 0), min(high, 1)
}

// normalSF is the upper tail P(Z > z) of the standard normal; erfc keeps precision far in the
// tail where 1-Φ(z) would round to zero.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// TwoProportionZ tests whether k1/n1 differs from k0/n0 with the pooled two-proportion z test
// and returns z (positive when the first proportion is higher) and the two-sided p-value.
//
// The pooled form is the one that is exact under the null "nothing changed", which is the
// question a dashboard asks. When either group is empty, or every answer is the same in both,
// there is no evidence of change, so z = 0 and p = 1 rather than NaN.
func TwoProportionZ(k1, n1, k0, n0 int) (z, p float64) {
	if n1 <= 0 || n0 <= 0 {
		return 0, 1
	}
	p1 := float64(k1) / float64(n1)
	p0 := float64(k0) / float64(n0)
	pooled := float64(k1+k0) / float64(n1+n0)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n0)))
	if se == 0 || math.IsNaN(se) {
		return 0, 1
	}
	z = (p1 - p0) / se
	return z, 2 * normalSF(math.Abs(z))
}
