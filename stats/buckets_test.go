package stats

import (
	"slices"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func TestBucketKey(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name string
		t    time.Time
		g    Granularity
		loc  *time.Location
		want string
	}{
		// 03:30 UTC on Monday is still Sunday evening in New York (and DST began that Sunday).
		{"SundayNightLocal", time.Date(2025, 3, 10, 3, 30, 0, 0, time.UTC), Week, ny, "2025-03-03"},
		{"MondayJustAfterMidnight", time.Date(2025, 3, 10, 4, 30, 0, 0, time.UTC), Week, ny, "2025-03-10"},
		{"SameInstantUTC", time.Date(2025, 3, 10, 3, 30, 0, 0, time.UTC), Week, time.UTC, "2025-03-10"},
		{"DayInZone", time.Date(2025, 3, 10, 3, 30, 0, 0, time.UTC), Day, ny, "2025-03-09"},
		// 1 January 2025 is a Wednesday; its week starts in 2024.
		{"WeekAcrossYear", time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC), Week, time.UTC, "2024-12-30"},
		{"SundayBelongsToPreviousMonday", time.Date(2025, 3, 16, 12, 0, 0, 0, time.UTC), Week, time.UTC, "2025-03-10"},
		{"MondayIsItsOwn", time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC), Week, time.UTC, "2025-03-17"},
		{"MonthInZone", time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC), Month, ny, "2025-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BucketKey(tt.t, tt.g, tt.loc); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := ISOWeek(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC); got != "2025-W01" {
		t.Fatalf("ISOWeek: got %s, want 2025-W01", got)
	}
}

func TestBuckets(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := func(y int, m time.Month, day int, loc *time.Location) time.Time {
		return time.Date(y, m, day, 0, 0, 0, 0, loc)
	}
	tests := []struct {
		name     string
		from, to time.Time
		g        Granularity
		loc      *time.Location
		want     []string
	}{
		{"Weeks", d(2025, 3, 1, time.UTC), d(2025, 3, 18, time.UTC), Week, time.UTC, []string{"2025-02-24", "2025-03-03", "2025-03-10", "2025-03-17"}},
		{"Months", d(2025, 1, 15, time.UTC), d(2025, 3, 1, time.UTC), Month, time.UTC, []string{"2025-01", "2025-02"}},
		{"DaysOverDST", d(2025, 3, 8, ny), d(2025, 3, 11, ny), Day, ny, []string{"2025-03-08", "2025-03-09", "2025-03-10"}},
		{"Empty", d(2025, 3, 8, ny), d(2025, 3, 8, ny), Day, ny, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BucketKeys(tt.from, tt.to, tt.g, tt.loc); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("DSTWeekIs167Hours", func(t *testing.T) {
		b := Buckets(d(2025, 3, 4, ny), d(2025, 3, 5, ny), Week, ny)
		if len(b) != 1 || b[0].End.Sub(b[0].Start) != 167*time.Hour {
			t.Fatalf("got %+v, want one 167 h week", b)
		}
	})
}

func TestParseBucketKey(t *testing.T) {
	tests := []struct {
		key     string
		g       Granularity
		wantErr bool
		days    int
	}{
		{"2025-03-10", Week, false, 7},
		{"2025-03-11", Week, true, 0},
		{"2024-02", Month, false, 29},
		{"2025-03-10", Day, false, 1},
		{"nonsense", Day, true, 0},
	}
	for _, tt := range tests {
		t.Run(string(tt.g)+"/"+tt.key, func(t *testing.T) {
			b, err := ParseBucketKey(tt.key, tt.g, time.UTC)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (b.End.Sub(b.Start) != time.Duration(tt.days)*24*time.Hour || BucketKey(b.Start, tt.g, time.UTC) != tt.key) {
				t.Fatalf("got %+v, want a %d-day bucket that round-trips", b, tt.days)
			}
		})
	}
	if _, err := ParseGranularity("fortnight"); err == nil {
		t.Fatal("ParseGranularity: got nil error for fortnight")
	}
}

func TestResolvePeriod(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name                       string
		p                          Preset
		from, to                   time.Time
		wantFrom, wantTo, prevFrom time.Time
		prevTo                     time.Time
		gran                       Granularity
	}{
		{name: "7d", p: Last7Days, wantFrom: d(2025, 3, 6), wantTo: d(2025, 3, 13), prevFrom: d(2025, 2, 27), prevTo: d(2025, 3, 6), gran: Day},
		{name: "30d", p: Last30Days, wantFrom: d(2025, 2, 11), wantTo: d(2025, 3, 13), prevFrom: d(2025, 1, 12), prevTo: d(2025, 2, 11), gran: Day},
		{name: "90d", p: Last90Days, wantFrom: d(2024, 12, 13), wantTo: d(2025, 3, 13), prevFrom: d(2024, 9, 14), prevTo: d(2024, 12, 13), gran: Week},
		{name: "12m", p: Last12Month, wantFrom: d(2024, 4, 1), wantTo: d(2025, 3, 13), prevFrom: d(2023, 4, 1), prevTo: d(2024, 3, 13), gran: Month},
		{name: "Custom", p: Custom, from: d(2025, 3, 1), to: d(2025, 3, 10), wantFrom: d(2025, 3, 1), wantTo: d(2025, 3, 11), prevFrom: d(2025, 2, 19), prevTo: d(2025, 3, 1), gran: Day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ResolvePeriod(tt.p, now, time.UTC, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if !p.From.Equal(tt.wantFrom) || !p.To.Equal(tt.wantTo) || !p.PrevFrom.Equal(tt.prevFrom) || !p.PrevTo.Equal(tt.prevTo) {
				t.Fatalf("got %v–%v prev %v–%v, want %v–%v prev %v–%v", p.From, p.To, p.PrevFrom, p.PrevTo, tt.wantFrom, tt.wantTo, tt.prevFrom, tt.prevTo)
			}
			if g := p.Granularity(); g != tt.gran {
				t.Fatalf("got granularity %s, want %s", g, tt.gran)
			}
		})
	}
	t.Run("CustomDatesKeepTheirDateInZone", func(t *testing.T) {
		p, err := ResolvePeriod(Custom, now, ny, d(2025, 3, 1), d(2025, 3, 10))
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2025, 3, 1, 0, 0, 0, 0, ny); !p.From.Equal(want) || p.Days() != 10 {
			t.Fatalf("got from %v (%d days), want %v (10 days)", p.From, p.Days(), want)
		}
	})
	t.Run("7dAcrossDSTIsSevenDates", func(t *testing.T) {
		p, _ := ResolvePeriod(Last7Days, time.Date(2025, 3, 12, 15, 0, 0, 0, ny), ny, time.Time{}, time.Time{})
		if p.Days() != 7 || p.To.Sub(p.From) != 7*24*time.Hour-time.Hour {
			t.Fatalf("got %d days, %v", p.Days(), p.To.Sub(p.From))
		}
	})
	for _, bad := range []struct {
		name     string
		p        Preset
		from, to time.Time
	}{
		{"Unknown", "2w", time.Time{}, time.Time{}},
		{"CustomMissing", Custom, d(2025, 3, 1), time.Time{}},
		{"CustomReversed", Custom, d(2025, 3, 10), d(2025, 3, 1)},
	} {
		t.Run("Err"+bad.name, func(t *testing.T) {
			if _, err := ResolvePeriod(bad.p, now, time.UTC, bad.from, bad.to); err == nil {
				t.Fatal("got nil error")
			}
		})
	}
	if len(PeriodPresets) != 5 {
		t.Fatalf("got %d presets, want 5", len(PeriodPresets))
	}
}
