package storage

import (
	"reflect"
	"testing"
)

func TestMonthSplit(t *testing.T) {
	for _, c := range []struct {
		name         string
		q            StatsQuery
		days, months [][2]string
	}{
		{"inside one month", StatsQuery{Filter: StatsFilter{From: "2026-03-05", To: "2026-03-20"}},
			[][2]string{{"2026-03-05", "2026-03-20"}}, nil},
		{"whole months only", StatsQuery{Filter: StatsFilter{From: "2026-01-01", To: "2026-04-01"}},
			nil, [][2]string{{"2026-01", "2026-04"}}},
		{"edges", StatsQuery{Filter: StatsFilter{From: "2025-11-22", To: "2026-02-10"}},
			[][2]string{{"2025-11-22", "2025-12-01"}, {"2026-02-01", "2026-02-10"}}, [][2]string{{"2025-12", "2026-02"}}},
		{"split at the current period", StatsQuery{Filter: StatsFilter{From: "2026-01-01", To: "2026-05-01"}, CurrentFrom: "2026-03-15"},
			[][2]string{{"2026-03-01", "2026-03-15"}, {"2026-03-15", "2026-04-01"}}, [][2]string{{"2026-01", "2026-03"}, {"2026-04", "2026-05"}}},
		{"gap before the current period", StatsQuery{Filter: StatsFilter{From: "2024-12-01", To: "2026-11-23"}, CurrentFrom: "2025-12-01", PreviousTo: "2025-11-23"},
			[][2]string{{"2025-11-01", "2025-11-23"}, {"2026-11-01", "2026-11-23"}}, [][2]string{{"2024-12", "2025-11"}, {"2025-12", "2026-11"}}},
		{"current period outside", StatsQuery{Filter: StatsFilter{From: "2026-01-10", To: "2026-02-10"}, CurrentFrom: "2025-01-01"},
			[][2]string{{"2026-01-10", "2026-02-10"}}, nil},
		{"bad day", StatsQuery{Filter: StatsFilter{From: "2026-01-01", To: "someday"}}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			days, months := c.q.monthSplit()
			if !reflect.DeepEqual(days, c.days) || !reflect.DeepEqual(months, c.months) {
				t.Errorf("monthSplit() = %v, %v; want %v, %v", days, months, c.days, c.months)
			}
		})
	}
}
