package storage

import (
	"testing"
	"time"
)

func TestSiteLocation(t *testing.T) {
	for _, c := range []struct {
		tz, want string
	}{
		{"Europe/London", "Europe/London"},
		{"America/New_York", "America/New_York"},
		{"", "UTC"},
		{"Mars/Olympus_Mons", "UTC"},
	} {
		s := Site{TimeZone: c.tz}
		first, again := s.Location(), s.Location()
		if first.String() != c.want {
			t.Errorf("%q: location %s, want %s", c.tz, first, c.want)
		}
		if first != again {
			t.Errorf("%q: the zone was loaded twice", c.tz)
		}
		// The cached zone converts like a freshly loaded one.
		at := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
		if fresh, err := time.LoadLocation(c.tz); err == nil && at.In(first).Format(time.RFC3339) != at.In(fresh).Format(time.RFC3339) {
			t.Errorf("%q: %s vs %s", c.tz, at.In(first), at.In(fresh))
		}
	}
}
