package stats

import (
	"fmt"
	"time"
)

// Preset names a dashboard period as it appears in the URL (?period=30d).
type Preset string

// The dashboard's period choices.
const (
	Last7Days   Preset = "7d"
	Last30Days  Preset = "30d"
	Last90Days  Preset = "90d"
	Last12Month Preset = "12m"
	Custom      Preset = "custom"
)

// PeriodPresets lists the presets in the order a period picker shows them.
var PeriodPresets = []Preset{Last7Days, Last30Days, Last90Days, Last12Month, Custom}

// Period is a half-open range [From, To) in a site's zone, with the previous period of the same
// length that the dashboard compares against.
type Period struct {
	Preset   Preset    `json:"preset"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	PrevFrom time.Time `json:"prev_from"`
	PrevTo   time.Time `json:"prev_to"`
}

// ResolvePeriod turns a preset into concrete times.
//
// Day presets end with today (To is the coming midnight, so this morning's responses count) and
// reach back N calendar days; calendar days, not N×24 h, so a DST week is still 7 dates. "12m"
// starts on the first of the month eleven months back so monthly charts have no partial first
// bucket, and compares with the same span a year earlier: seasonal trouble is compared with
// the same season. For Custom, from and to are inclusive dates (their clock time is ignored),
// and the previous period is the same number of days immediately before. from and to are
// ignored for other presets.
func ResolvePeriod(p Preset, now time.Time, loc *time.Location, from, to time.Time) (Period, error) {
	today := BucketStart(now, Day, loc)
	end := today.AddDate(0, 0, 1)
	days := func(n int) Period {
		f := end.AddDate(0, 0, -n)
		return Period{Preset: p, From: f, To: end, PrevFrom: f.AddDate(0, 0, -n), PrevTo: f}
	}
	switch p {
	case Last7Days:
		return days(7), nil
	case Last30Days:
		return days(30), nil
	case Last90Days:
		return days(90), nil
	case Last12Month:
		f := BucketStart(now, Month, loc).AddDate(0, -11, 0)
		return Period{Preset: p, From: f, To: end, PrevFrom: f.AddDate(-1, 0, 0), PrevTo: end.AddDate(-1, 0, 0)}, nil
	case Custom:
		if from.IsZero() || to.IsZero() {
			return Period{}, fmt.Errorf("stats: custom period needs both from and to")
		}
		f, e := localDate(from, loc), localDate(to, loc).AddDate(0, 0, 1)
		if !f.Before(e) {
			return Period{}, fmt.Errorf("stats: custom period ends before it starts")
		}
		n := daysBetween(f, e)
		return Period{Preset: p, From: f, To: e, PrevFrom: f.AddDate(0, 0, -n), PrevTo: f}, nil
	}
	return Period{}, fmt.Errorf("stats: unknown period %q (want 7d, 30d, 90d, 12m or custom)", p)
}

// localDate reads t's calendar date as written, not converted: a custom range arrives as
// "2025-03-01" parsed in UTC, and converting it to New York would make it February 28.
func localDate(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// daysBetween counts calendar dates, which is what "same length" means to a reader even across
// a DST change where the hours differ.
func daysBetween(from, to time.Time) int {
	fy, fm, fd := from.Date()
	ty, tm, td := to.Date()
	a := time.Date(fy, fm, fd, 0, 0, 0, 0, time.UTC)
	b := time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// Days is the number of calendar dates in the period.
func (p Period) Days() int { return daysBetween(p.From, p.To) }

// Granularity is the bucket width a trend chart of this period should default to: enough
// points to show a shape, few enough that each holds more than a handful of responses.
func (p Period) Granularity() Granularity {
	switch d := p.Days(); {
	case d <= 31:
		return Day
	case d <= 120:
		return Week
	default:
		return Month
	}
}
