package stats

import (
	"cmp"
	"math"
	"slices"
)

// DefaultAlpha is the significance level for "changed" flags. 5% two-sided is what readers of
// a quality report expect; it is deliberately not configurable per page so a flag means the
// same thing everywhere.
const DefaultAlpha = 0.05

// Change compares a period with the previous one of the same length.
//
// DeltaPP is the difference in percentage points (or NPS points for NPS), current − previous,
// never a relative "% change": a move from 2 % to 4 % is "+2 points", not "+100 %". When either
// side is suppressed there is no delta, only the note, because a difference would let a reader
// recover the hidden rate.
type Change struct {
	Current     Rate     `json:"current"`
	Previous    Rate     `json:"previous"`
	DeltaPP     *float64 `json:"delta_pp,omitempty"`
	Z           float64  `json:"z"`
	PValue      float64  `json:"p_value"`
	Significant bool     `json:"significant"`
	Suppressed  bool     `json:"suppressed,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// CompareProportions compares k1/n1 (current) with k0/n0 (previous) using the pooled
// two-proportion z test; Significant means p < alpha.
func CompareProportions(k1, n1, k0, n0, minCell int, alpha float64) Change {
	ch := Change{Current: Proportion(k1, n1, minCell), Previous: Proportion(k0, n0, minCell), PValue: 1}
	if !ch.finishWithheld() {
		return ch
	}
	ch.Z, ch.PValue = TwoProportionZ(k1, n1, k0, n0)
	ch.DeltaPP = ptr(*ch.Current.Value - *ch.Previous.Value)
	ch.Significant = ch.PValue < alpha
	return ch
}

// CompareNPS compares two periods' NPS. The test is a Wald z test on the difference of two
// independent trinomial means, z = (NPS₁ − NPS₀) / √(SE₁² + SE₀²), with SE from
// Var = p₊ + p₋ − (p₊ − p₋)²; with hundreds of answers per period, the usual case for a
// two-period comparison, the normal approximation is good. A period where everybody answered
// the same has SE 0; if both do, z is 0 unless the scores differ, in which case the difference
// is certain and p = 0.
func CompareNPS(cur, prev NPSCounts, minCell int, alpha float64) Change {
	ch := Change{Current: cur.Rate(minCell), Previous: prev.Rate(minCell), PValue: 1}
	if !ch.finishWithheld() {
		return ch
	}
	d := *ch.Current.Value - *ch.Previous.Value
	ch.DeltaPP = ptr(d)
	se := math.Hypot(cur.standardError(), prev.standardError())
	switch {
	case d == 0:
		ch.Z, ch.PValue = 0, 1
	case se == 0:
		ch.Z, ch.PValue = math.Copysign(math.Inf(1), d), 0
	default:
		ch.Z = d / se
		ch.PValue = 2 * normalSF(math.Abs(ch.Z))
	}
	ch.Significant = ch.PValue < alpha
	return ch
}

// finishWithheld fills the note when a side has no value and reports whether a comparison may
// go ahead.
func (ch *Change) finishWithheld() bool {
	switch {
	case ch.Current.Suppressed || ch.Previous.Suppressed:
		ch.Suppressed = true
		if ch.Current.Suppressed {
			ch.Note = ch.Current.Note
		} else {
			ch.Note = ch.Previous.Note
		}
		return false
	case !ch.Current.Shown() || !ch.Previous.Shown():
		ch.Note = NoDataNote
		return false
	}
	return true
}

// MoverInput is one segment (a theme, a site, a theme at a site) with its count of events
// (e.g. complaints mentioning the theme) out of a volume (e.g. comments) in both periods.
type MoverInput struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Current   int    `json:"current"`
	CurrentN  int    `json:"current_n"`
	Previous  int    `json:"previous"`
	PreviousN int    `json:"previous_n"`
}

// Mover is a ranked segment.
type Mover struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Change Change `json:"change"`
}

// BiggestMovers ranks segments by the absolute two-proportion z statistic, largest first.
//
// Ranking by z rather than by the raw point difference is the point of this function: a small
// site that goes from 1 in 5 to 3 in 5 moves 40 points but carries almost no evidence, while a
// 6-point rise over 800 comments is real. z weighs the move by its own standard error, so noise
// cannot top the list. Segments withheld in either period are left out entirely, since their
// position in the list would itself leak the hidden numbers. Ties break on the larger point
// difference, then the key, so the order is stable between page loads.
func BiggestMovers(in []MoverInput, minCell int, alpha float64) []Mover {
	out := make([]Mover, 0, len(in))
	for _, m := range in {
		ch := CompareProportions(m.Current, m.CurrentN, m.Previous, m.PreviousN, minCell, alpha)
		if ch.DeltaPP == nil {
			continue
		}
		out = append(out, Mover{Key: m.Key, Label: m.Label, Change: ch})
	}
	slices.SortStableFunc(out, func(a, b Mover) int {
		if c := cmp.Compare(math.Abs(b.Change.Z), math.Abs(a.Change.Z)); c != 0 {
			return c
		}
		if c := cmp.Compare(math.Abs(*b.Change.DeltaPP), math.Abs(*a.Change.DeltaPP)); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// TopRising returns up to k movers that rose significantly, strongest evidence first: the
// "themes that rose most" on the overview. A rise that is not significant is not news and is
// left out even if fewer than k remain.
func TopRising(movers []Mover, k int) []Mover {
	var out []Mover
	for _, m := range movers {
		if len(out) == k {
			break
		}
		if m.Change.Z > 0 && m.Change.Significant {
			out = append(out, m)
		}
	}
	return out
}
