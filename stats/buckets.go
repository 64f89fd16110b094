package stats

import (
	"fmt"
	"time"
)

// Granularity is the width of a time bucket on a trend chart.
type Granularity string

// Granularities a chart may use.
const (
	Day   Granularity = "day"
	Week  Granularity = "week"
	Month Granularity = "month"
)

// ParseGranularity accepts "day", "week" or "month", as in a URL filter.
func ParseGranularity(s string) (Granularity, error) {
	switch g := Granularity(s); g {
	case Day, Week, Month:
		return g, nil
	}
	return "", fmt.Errorf("stats: unknown granularity %q (want day, week or month)", s)
}

// Bucket keys are plain local dates so SQL can produce the same string without ISO-week support
// (SQLite lacks %V before 3.46): day "2006-01-02", week the date of its Monday "2006-01-02",
// month "2006-01".
const (
	dayKey   = "2006-01-02"
	monthKey = "2006-01"
)

// BucketStart returns the start of the bucket holding t, in loc. Buckets follow the site's
// wall clock, not UTC, because "Monday's feedback" means Monday where the clinic is; a
// comment at 23:30 on Sunday in New York is Sunday's. Weeks start on Monday (ISO 8601).
// time.Date normalises, so a DST change (a 23- or 25-hour day) cannot shift the boundary.
func BucketStart(t time.Time, g Granularity, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch g {
	case Week:
		back := (int(t.Weekday()) + 6) % 7 // Monday → 0 … Sunday → 6
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case Month:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	default:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
}

// nextBucket returns the start of the bucket after the one starting at start.
func nextBucket(start time.Time, g Granularity) time.Time {
	switch g {
	case Week:
		return start.AddDate(0, 0, 7)
	case Month:
		return start.AddDate(0, 1, 0)
	default:
		return start.AddDate(0, 0, 1)
	}
}

// BucketKey returns the key of the bucket holding t, in loc.
func BucketKey(t time.Time, g Granularity, loc *time.Location) string {
	s := BucketStart(t, g, loc)
	if g == Month {
		return s.Format(monthKey)
	}
	return s.Format(dayKey)
}

// ISOWeek returns the ISO 8601 label of the week holding t in loc, like "2025-W01", for
// display; keys use the Monday's date instead (see BucketKey).
func ISOWeek(t time.Time, loc *time.Location) string {
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// Bucket is one slot on a time axis: [Start, End) in the site's zone.
type Bucket struct {
	Key   string    `json:"key"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Buckets lists every bucket that overlaps [from, to), in order, including empty ones: a
// chart must show a week with no responses as a gap, not silently join its neighbours.
func Buckets(from, to time.Time, g Granularity, loc *time.Location) []Bucket {
	var out []Bucket
	for s := BucketStart(from, g, loc); s.Before(to); {
		e := nextBucket(s, g)
		k := s.Format(dayKey)
		if g == Month {
			k = s.Format(monthKey)
		}
		out = append(out, Bucket{Key: k, Start: s, End: e})
		s = e
	}
	return out
}

// BucketKeys is Buckets reduced to keys, for joining with SQL results.
func BucketKeys(from, to time.Time, g Granularity, loc *time.Location) []string {
	bs := Buckets(from, to, g, loc)
	keys := make([]string, len(bs))
	for i, b := range bs {
		keys[i] = b.Key
	}
	return keys
}

// ParseBucketKey returns the bucket a key names, so a chart point can link to its comments.
func ParseBucketKey(key string, g Granularity, loc *time.Location) (Bucket, error) {
	layout := dayKey
	if g == Month {
		layout = monthKey
	}
	t, err := time.ParseInLocation(layout, key, loc)
	if err != nil {
		return Bucket{}, fmt.Errorf("stats: bad %s key %q", g, key)
	}
	if g == Week && t.Weekday() != time.Monday {
		return Bucket{}, fmt.Errorf("stats: week key %q is not a Monday", key)
	}
	return Bucket{Key: key, Start: t, End: nextBucket(t, g)}, nil
}
