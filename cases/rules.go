// Package cases holds the follow-up rules of CareVoice: when a response opens
// a case, when it is due, and which comments are urgent. It is pure logic:
// storage keeps the cases, api shows them, alerts tells people.
package cases

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Statuses of a case.
const (
	StatusNew       = "new"
	StatusContacted = "contacted"
	StatusResolved  = "resolved"
	StatusClosed    = "closed" // closed without contact, with a reason
)

// Reasons a case opens, in the order a manager should read them.
const (
	ReasonUrgent           = "urgent"
	ReasonContactRequested = "contact_requested"
	ReasonFFTPoor          = "fft_poor"
	ReasonNPSDetractor     = "nps_detractor"
	ReasonIgnored          = "ignored"
	ReasonDismissed        = "dismissed"
)

// ReasonLabels are the words staff pages show for reason codes.
var ReasonLabels = map[string]string{
	ReasonUrgent:           "Urgent",
	ReasonContactRequested: "Asked to be contacted",
	ReasonFFTPoor:          "Poor or very poor rating",
	ReasonNPSDetractor:     "NPS 0–6 with a negative comment",
	ReasonIgnored:          "Felt ignored",
	ReasonDismissed:        "Felt dismissed",
}

// Outcomes a resolved case may record, and reasons for closing without contact.
var (
	Outcomes     = []string{"apology", "explained", "fixed", "escalated", "formal_complaint", "no_action_needed"}
	CloseReasons = []string{"no_contact_details", "unreachable", "declined", "duplicate", "not_needed"}
)

// transitions lists where each status may go; a reopen goes back one step.
var transitions = map[string][]string{
	StatusNew:       {StatusContacted, StatusClosed},
	StatusContacted: {StatusResolved},
	StatusResolved:  {StatusContacted},
	StatusClosed:    {StatusNew},
}

// CanMove reports whether a case may go from one status to another.
func CanMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// ValidStatus reports whether s is a case status.
func ValidStatus(s string) bool { _, ok := transitions[s]; return ok }

// Rules are a site's case rules; an admin may change them.
type Rules struct {
	// A patient asking to be contacted always opens a case: the thank-you
	// page promised a call, so that rule cannot be switched off.
	FFTPoor          bool `json:"fft_poor"`          // FFT 4 (poor) or 5 (very poor)
	NPSDetractor     bool `json:"nps_detractor"`     // NPS 0–6 with a negative comment
	IgnoredDismissed bool `json:"ignored_dismissed"` // a comment tagged ignored or dismissed
	AlertNew         bool `json:"alert_new"`         // alert the site's managers on every new case
	DueWorkingDays   int  `json:"due_working_days"`
	// WorkingDays are the site's working weekdays (time.Sunday = 0).
	WorkingDays []time.Weekday `json:"working_days"`
	// ClosedDays are dates the site is shut on a working weekday (bank
	// holidays), as YYYY-MM-DD in the site's calendar: a date, not an
	// instant, because the holiday is the local day whatever the offset.
	ClosedDays []string `json:"closed_days"`
}

// DateLayout is the form of a closed day.
const DateLayout = "2006-01-02"

// MaxClosedDays bounds a site's calendar: a few years of bank holidays, and
// a bound on how far DueAt may have to look.
const MaxClosedDays = 100

// DefaultRules apply to a site nobody has configured.
func DefaultRules() Rules {
	return Rules{FFTPoor: true, NPSDetractor: true, IgnoredDismissed: true, DueWorkingDays: 2,
		WorkingDays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}
}

// Check returns field problems, or nil.
func (r Rules) Check() map[string]string {
	f := map[string]string{}
	if r.DueWorkingDays < 1 || r.DueWorkingDays > 30 {
		f["due_working_days"] = "must be between 1 and 30"
	}
	if len(r.WorkingDays) == 0 {
		f["working_days"] = "needs at least one working day"
	}
	for _, d := range r.WorkingDays {
		if d < time.Sunday || d > time.Saturday {
			f["working_days"] = "days are 0 (Sunday) to 6 (Saturday)"
		}
	}
	for _, d := range r.ClosedDays {
		if _, err := time.Parse(DateLayout, d); err != nil {
			f["closed_days"] = fmt.Sprintf("%q is not a date written YYYY-MM-DD", d)
			break
		}
	}
	if _, ok := f["closed_days"]; !ok && len(CleanClosedDays(r.ClosedDays)) > MaxClosedDays {
		f["closed_days"] = fmt.Sprintf("at most %d closed days", MaxClosedDays)
	}
	if len(f) == 0 {
		return nil
	}
	return f
}

// FormatDays stores working days as "1,2,3,4,5".
func FormatDays(days []time.Weekday) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = strconv.Itoa(int(d))
	}
	return strings.Join(s, ",")
}

// ParseDays reads FormatDays's form.
func ParseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 6 {
			return nil, fmt.Errorf("cases: working day %q is not 0–6", p)
		}
		if !slices.Contains(out, time.Weekday(n)) {
			out = append(out, time.Weekday(n))
		}
	}
	slices.Sort(out)
	return out, nil
}

// SplitClosedDays reads closed days as an admin types them: one a line or
// separated by commas. It does not check them; Check does.
func SplitClosedDays(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// CleanClosedDays sorts closed days and drops repeats; YYYY-MM-DD sorts by
// date as text. It returns nil for none, so stored and typed rules compare.
func CleanClosedDays(days []string) []string {
	var out []string
	for _, d := range days {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// FormatClosedDays stores closed days as "2026-12-25,2026-12-28", sorted.
func FormatClosedDays(days []string) string { return strings.Join(CleanClosedDays(days), ",") }

// ParseClosedDays reads FormatClosedDays's form.
func ParseClosedDays(s string) ([]string, error) {
	days := CleanClosedDays(strings.Split(s, ","))
	for _, d := range days {
		if _, err := time.Parse(DateLayout, d); err != nil {
			return nil, fmt.Errorf("cases: closed day %q is not YYYY-MM-DD", d)
		}
	}
	return days, nil
}

// Comment is one analysed free-text answer.
type Comment struct {
	Text      string
	Sentiment string   // positive | neutral | negative | mixed
	Themes    []string // theme ids mentioned as complaints
}

// Input is what the rules look at in a response.
type Input struct {
	WantsContact bool
	FFT, NPS     *int
	Comments     []Comment
}

// Decision says whether and why a response opens a case.
type Decision struct {
	Open    bool
	Urgent  bool
	Reasons []string // reason codes; urgent ones as "urgent:<category>"
}

// Decide applies a site's rules to a response. Urgent comments open a case
// whatever the rules and the sentiment say.
func Decide(r Rules, in Input) Decision {
	var d Decision
	var cats []string
	for _, c := range in.Comments {
		for _, cat := range UrgentCategories(c.Text) {
			if !slices.Contains(cats, cat) {
				cats = append(cats, cat)
			}
		}
	}
	for _, c := range cats {
		d.Reasons = append(d.Reasons, ReasonUrgent+":"+c)
	}
	d.Urgent = len(cats) > 0
	if in.WantsContact {
		d.Reasons = append(d.Reasons, ReasonContactRequested)
	}
	if r.FFTPoor && in.FFT != nil && (*in.FFT == 4 || *in.FFT == 5) {
		d.Reasons = append(d.Reasons, ReasonFFTPoor)
	}
	if r.NPSDetractor && in.NPS != nil && *in.NPS <= 6 && slices.ContainsFunc(in.Comments, func(c Comment) bool { return c.Sentiment == "negative" }) {
		d.Reasons = append(d.Reasons, ReasonNPSDetractor)
	}
	if r.IgnoredDismissed {
		for _, theme := range []string{ReasonIgnored, ReasonDismissed} {
			if slices.ContainsFunc(in.Comments, func(c Comment) bool { return slices.Contains(c.Themes, theme) }) {
				d.Reasons = append(d.Reasons, theme)
			}
		}
	}
	d.Open = len(d.Reasons) > 0
	return d
}

// ReasonLabel is the staff wording of one reason code.
func ReasonLabel(code string) string {
	if cat, ok := strings.CutPrefix(code, ReasonUrgent+":"); ok {
		return "Urgent: " + UrgentLabels[cat]
	}
	if l, ok := ReasonLabels[code]; ok {
		return l
	}
	return code
}
