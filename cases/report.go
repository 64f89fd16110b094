package cases

import (
	"sort"
	"time"
)

// ReportCase is what the report needs of one case.
type ReportCase struct {
	Site        string
	Month       string // local month opened, YYYY-MM
	Urgent      bool
	Status      string
	OpenedAt    time.Time
	DueAt       time.Time
	ContactedAt *time.Time
	Outcome     string
	CloseReason string
}

// ReportRow sums the cases of one site (or "all") in one month.
type ReportRow struct {
	Site   string `json:"site"`
	Month  string `json:"month"`
	Opened int    `json:"opened"`
	Urgent int    `json:"urgent"`
	// Due counts cases whose due time has passed or that were contacted:
	// the ones that could have been contacted on time by now.
	Due       int `json:"due"`
	OnTime    int `json:"contacted_on_time"`
	Contacted int `json:"contacted"`
	// OnTimePct is OnTime / Due × 100; nil when nothing was due yet.
	OnTimePct *float64 `json:"contacted_on_time_pct"`
	// MedianHours is the median time from opening to first contact, over
	// contacted cases; nil when none was contacted.
	MedianHours  *float64       `json:"median_hours_to_contact"`
	Open         int            `json:"open"`
	Outcomes     map[string]int `json:"outcomes"`
	CloseReasons map[string]int `json:"closed_without_contact"`
}

// Report groups cases by site and month, newest month first, with an "all"
// row per month when there is more than one site.
func Report(cs []ReportCase, now time.Time) []ReportRow {
	type key struct{ site, month string }
	rows := map[key]*ReportRow{}
	waits := map[key][]float64{}
	sites := map[string]bool{}
	for _, c := range cs {
		sites[c.Site] = true
		for _, k := range []key{{c.Site, c.Month}, {"all", c.Month}} {
			r := rows[k]
			if r == nil {
				r = &ReportRow{Site: k.site, Month: k.month, Outcomes: map[string]int{}, CloseReasons: map[string]int{}}
				rows[k] = r
			}
			r.Opened++
			if c.Urgent {
				r.Urgent++
			}
			if c.ContactedAt != nil {
				r.Contacted++
				r.Due++
				if !c.ContactedAt.After(c.DueAt) {
					r.OnTime++
				}
				waits[k] = append(waits[k], c.ContactedAt.Sub(c.OpenedAt).Hours())
			} else if now.After(c.DueAt) {
				r.Due++
			}
			switch c.Status {
			case StatusNew, StatusContacted:
				r.Open++
			case StatusResolved:
				if c.Outcome != "" {
					r.Outcomes[c.Outcome]++
				}
			case StatusClosed:
				r.CloseReasons[c.CloseReason]++
			}
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for k, r := range rows {
		if k.site == "all" && len(sites) < 2 {
			continue
		}
		if r.Due > 0 {
			p := float64(r.OnTime) / float64(r.Due) * 100
			r.OnTimePct = &p
		}
		if w := waits[k]; len(w) > 0 {
			m := median(w)
			r.MedianHours = &m
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Month != out[j].Month {
			return out[i].Month > out[j].Month
		}
		if (out[i].Site == "all") != (out[j].Site == "all") {
			return out[i].Site == "all"
		}
		return out[i].Site < out[j].Site
	})
	return out
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
