package cases

import (
	"slices"
	"time"
)

// DueAt is when a case opened at opened must have had its first contact: the
// end of the r.DueWorkingDays-th working day after the day it opened, counted
// in the site's time zone and working week. A case opened on Friday with 2
// days in a Monday–Friday week is due at the end of Tuesday; so is one opened
// on Saturday. Counting whole local days keeps the promise the same across a
// daylight-saving change: the due time is midnight local time, whatever the
// UTC offset that day. The site's closed days (bank holidays) are skipped as
// well, so a case opened before a holiday weekend is not due a day early.
func DueAt(opened time.Time, loc *time.Location, r Rules) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	workingDays := r.WorkingDays
	if len(workingDays) == 0 {
		workingDays = DefaultRules().WorkingDays
	}
	n := r.DueWorkingDays
	if n < 1 {
		n = 1
	}
	closed := make(map[string]bool, len(r.ClosedDays))
	for _, d := range r.ClosedDays {
		closed[d] = true
	}
	local := opened.In(loc)
	y, m, d := local.Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, loc) // noon: never a DST gap
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if slices.Contains(workingDays, day.Weekday()) && !closed[day.Format(DateLayout)] {
			n--
		}
	}
	y, m, d = day.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc) // midnight ending that day
}

// Overdue reports whether a case still waiting for first contact is past due.
func Overdue(status string, due, now time.Time) bool {
	return status == StatusNew && now.After(due)
}
