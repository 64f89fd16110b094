package stats

import (
	"fmt"
	"strconv"
)

// DefaultMinCell mirrors SPEC's CAREVOICE_MIN_CELL default; callers pass the configured value.
const DefaultMinCell = 10

// Rate is one displayed number with its uncertainty, ready for a page, a chart table or the
// stats API. Value, Low and High are pointers so that a suppressed or empty segment marshals
// without them: a JSON consumer must not be able to read a rate that a page would hide, and
// a zero would be a lie.
//
// Value is a percentage (0–100) for proportions and NPS points (−100–100) for NPS.
type Rate struct {
	N          int      `json:"n"`
	Value      *float64 `json:"value,omitempty"`
	Low        *float64 `json:"low,omitempty"`
	High       *float64 `json:"high,omitempty"`
	Suppressed bool     `json:"suppressed,omitempty"`
	Note       string   `json:"note,omitempty"`
}

// SuppressedNote is the text shown in place of a suppressed rate, in pages, chart tables and
// the API alike, so a screen reader and a CSV reader hear the same words.
func SuppressedNote(minCell int) string { return "fewer than " + strconv.Itoa(minCell) }

// NoDataNote marks a segment that has no responses at all, which is different from a hidden one.
const NoDataNote = "no responses"

// Suppress reports whether a segment of n responses must hide its rate. Below minCell a rate
// could identify a patient and is mostly noise; minCell ≤ 0 disables suppression (tests, or a
// deployment that decided so explicitly).
func Suppress(n, minCell int) bool { return minCell > 0 && n < minCell }

// withheld builds the Rate for a segment that shows no value, or ok=false if it may show one.
func withheld(n, minCell int) (Rate, bool) {
	if Suppress(n, minCell) {
		return Rate{N: n, Suppressed: true, Note: SuppressedNote(minCell)}, true
	}
	if n <= 0 {
		return Rate{N: 0, Note: NoDataNote}, true
	}
	return Rate{}, false
}

// Proportion returns k of n as a percentage with its Wilson 95% interval, or a suppressed Rate.
func Proportion(k, n, minCell int) Rate {
	if r, ok := withheld(n, minCell); ok {
		return r
	}
	k = min(max(k, 0), n)
	lo, hi := Wilson(k, n, Z95)
	return Rate{N: n, Value: ptr(100 * float64(k) / float64(n)), Low: ptr(100 * lo), High: ptr(100 * hi)}
}

// Shown reports whether the rate carries a value a page may print.
func (r Rate) Shown() bool { return r.Value != nil }

// String renders the rate for text contexts (tables, CSV, alt text): "72.4" with one decimal,
// or the note ("fewer than 10") when hidden. Units are the caller's, since % and NPS differ.
func (r Rate) String() string {
	if r.Value == nil {
		if r.Note != "" {
			return r.Note
		}
		return NoDataNote
	}
	return strconv.FormatFloat(*r.Value, 'f', 1, 64)
}

// IntervalString renders "65.2–79.1" or "" when hidden.
func (r Rate) IntervalString() string {
	if r.Low == nil || r.High == nil {
		return ""
	}
	return fmt.Sprintf("%.1f–%.1f", *r.Low, *r.High)
}

func ptr(f float64) *float64 { return &f }
