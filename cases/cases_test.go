package cases

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUrgentHitsAndNearMisses(t *testing.T) {
	tests := []struct {
		text string
		want []string // nil: a near-miss, no urgent category
	}{
		// Hits.
		{"I have been thinking about killing myself since the diagnosis", []string{UrgentSelfHarm}},
		{"Honestly I don't want to live like this any more", []string{UrgentSelfHarm}},
		{"The doctor did not ask about my suicidal thoughts", []string{UrgentSelfHarm}},
		{"My husband hit me and I was too scared to tell the nurse", []string{UrgentAbuse}},
		{"A porter touched me inappropriately in the lift", []string{UrgentAbuse}},
		{"I am being abused at home and nobody asked", []string{UrgentAbuse}},
		{"I didn't feel safe in the waiting room with that man shouting", []string{UrgentUnsafe}},
		{"Felt unsafe walking to the car park at night", []string{UrgentUnsafe}},
		{"They gave me the wrong medication and I was sick all night", []string{UrgentMedication}},
		{"There was a mix-up: a prescription error doubled my insulin", []string{UrgentMedication}},
		{"I was given someone else's pills", []string{UrgentMedication}},
		{"My mother fell in the bathroom and no one came for twenty minutes", []string{UrgentFall}},
		{"I slipped and hurt my hip on the wet floor", []string{UrgentFall}},
		{"Dad had a nasty fall on the ward", []string{UrgentFall}},
		{"Great staff, but I fell off the exam table", []string{UrgentFall}},
		{"Me caí en el baño y nadie vino", []string{UrgentFall}},
		{"Me dieron un medicamento equivocado", []string{UrgentMedication}},
		{"No me sentí segura en la sala de espera", []string{UrgentUnsafe}},
		{"The nurse gave me the wrong dose and then I fell in the corridor", []string{UrgentMedication, UrgentFall}},
		{"Kind staff. I FELL   on the stairs though", []string{UrgentFall}},

		// Near-misses.
		{"Came home safe and sound, thank you", nil},
		{"I fell asleep in the waiting room, the wait was so long", nil},
		{"The nurse took care of my medication perfectly", nil},
		{"My appointment fell through twice", nil},
		{"Standards have fallen since last year", nil},
		{"I never felt unsafe, everyone was lovely", nil},
		{"The receptionist was abrupt", nil},
		{"The substance abuse team were brilliant", nil},
		{"The bill hit me hard", nil},
		{"The cake in the café is to die for", nil},
		{"It slipped my mind to ask about the results", nil},
		{"Please review my medication at the next visit", nil},
		{"I felt safe and cared for", nil},
		{"We came in the fall for my flu jab", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := UrgentCategories(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("UrgentCategories(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func ip(n int) *int { return &n }

func TestDecide(t *testing.T) {
	all := DefaultRules()
	none := Rules{DueWorkingDays: 2, WorkingDays: all.WorkingDays}
	neg := Comment{Text: "It was bad", Sentiment: "negative"}
	tests := []struct {
		name   string
		rules  Rules
		in     Input
		open   bool
		urgent bool
		want   []string
	}{
		{"nothing", all, Input{FFT: ip(1)}, false, false, nil},
		{"contact asked", all, Input{WantsContact: true, FFT: ip(1)}, true, false, []string{ReasonContactRequested}},
		{"contact asked with rules off", none, Input{WantsContact: true}, true, false, []string{ReasonContactRequested}},
		{"fft poor", all, Input{FFT: ip(4)}, true, false, []string{ReasonFFTPoor}},
		{"fft very poor", all, Input{FFT: ip(5)}, true, false, []string{ReasonFFTPoor}},
		{"fft neither", all, Input{FFT: ip(3)}, false, false, nil},
		{"fft don't know", all, Input{FFT: ip(0)}, false, false, nil},
		{"fft poor, rule off", none, Input{FFT: ip(5)}, false, false, nil},
		{"nps 6 negative", all, Input{NPS: ip(6), Comments: []Comment{neg}}, true, false, []string{ReasonNPSDetractor}},
		{"nps 0 without comment", all, Input{NPS: ip(0)}, false, false, nil},
		{"nps 6 positive comment", all, Input{NPS: ip(6), Comments: []Comment{{Sentiment: "positive"}}}, false, false, nil},
		{"nps 7 negative", all, Input{NPS: ip(7), Comments: []Comment{neg}}, false, false, nil},
		{"ignored", all, Input{Comments: []Comment{{Sentiment: "negative", Themes: []string{"wait_times", "ignored"}}}}, true, false, []string{ReasonIgnored}},
		{"dismissed, rule off", none, Input{Comments: []Comment{{Themes: []string{"dismissed"}}}}, false, false, nil},
		{"urgent positive comment", none, Input{FFT: ip(1), Comments: []Comment{{Text: "Lovely nurses after I fell in the shower", Sentiment: "positive"}}}, true, true, []string{"urgent:fall"}},
		{"urgent and contact", all, Input{WantsContact: true, FFT: ip(5), Comments: []Comment{{Text: "wrong medication", Sentiment: "negative"}}}, true, true,
			[]string{"urgent:medication_error", ReasonContactRequested, ReasonFFTPoor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.rules, tt.in)
			if d.Open != tt.open || d.Urgent != tt.urgent || !slices.Equal(d.Reasons, tt.want) {
				t.Fatalf("got open=%v urgent=%v %v, want open=%v urgent=%v %v", d.Open, d.Urgent, d.Reasons, tt.open, tt.urgent, tt.want)
			}
		})
	}
}

func TestDueAt(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	london, _ := time.LoadLocation("Europe/London")
	dubai, _ := time.LoadLocation("Asia/Dubai")
	monFri := DefaultRules().WorkingDays
	auckland, _ := time.LoadLocation("Pacific/Auckland")
	sunThu := []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday}
	tests := []struct {
		name   string
		opened time.Time
		loc    *time.Location
		days   []time.Weekday
		n      int
		closed []string
		want   time.Time
	}{
		{"Monday morning → end of Wednesday", time.Date(2026, 11, 16, 9, 0, 0, 0, london), london, monFri, 2, nil,
			time.Date(2026, 11, 19, 0, 0, 0, 0, london)},
		{"Friday → end of Tuesday, over the weekend", time.Date(2026, 11, 20, 16, 0, 0, 0, london), london, monFri, 2, nil,
			time.Date(2026, 11, 25, 0, 0, 0, 0, london)},
		{"Saturday → end of Tuesday", time.Date(2026, 11, 21, 10, 0, 0, 0, london), london, monFri, 2, nil,
			time.Date(2026, 11, 25, 0, 0, 0, 0, london)},
		{"Sunday late → end of Tuesday", time.Date(2026, 11, 22, 23, 30, 0, 0, london), london, monFri, 2, nil,
			time.Date(2026, 11, 25, 0, 0, 0, 0, london)},
		// 2026-03-08 is the US spring-forward Sunday: Friday's case is due
		// at local midnight ending Tuesday, 04:00 UTC (EDT), not 05:00 (EST).
		{"Friday before spring forward", time.Date(2026, 3, 6, 15, 0, 0, 0, ny), ny, monFri, 2, nil,
			time.Date(2026, 3, 11, 4, 0, 0, 0, time.UTC)},
		// 2026-11-01 is the US fall-back Sunday.
		{"Friday before fall back", time.Date(2026, 10, 30, 15, 0, 0, 0, ny), ny, monFri, 2, nil,
			time.Date(2026, 11, 4, 5, 0, 0, 0, time.UTC)},
		// The local day, not the UTC day, counts: Friday 22:00 in New York is
		// Saturday in UTC, and still a Friday case.
		{"local day not UTC day", time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC), ny, monFri, 2, nil,
			time.Date(2026, 11, 25, 0, 0, 0, 0, ny)},
		{"Sunday–Thursday week: Thursday → end of Monday", time.Date(2026, 11, 19, 10, 0, 0, 0, dubai), dubai, sunThu, 2, nil,
			time.Date(2026, 11, 24, 0, 0, 0, 0, dubai)},
		{"one working day", time.Date(2026, 11, 18, 10, 0, 0, 0, london), london, monFri, 1, nil,
			time.Date(2026, 11, 20, 0, 0, 0, 0, london)},
		// Closed days (bank holidays) are skipped like non-working weekdays.
		{"Friday, Monday closed → end of Wednesday", time.Date(2026, 11, 20, 16, 0, 0, 0, london), london, monFri, 2,
			[]string{"2026-11-23"}, time.Date(2026, 11, 26, 0, 0, 0, 0, london)},
		{"a closed Saturday changes nothing", time.Date(2026, 11, 20, 16, 0, 0, 0, london), london, monFri, 2,
			[]string{"2026-11-21"}, time.Date(2026, 11, 25, 0, 0, 0, 0, london)},
		{"a closed day outside the week changes nothing", time.Date(2026, 11, 19, 10, 0, 0, 0, dubai), dubai, sunThu, 2,
			[]string{"2026-11-20"}, time.Date(2026, 11, 24, 0, 0, 0, 0, dubai)},
		{"opened on a closed day: counting starts the day after", time.Date(2026, 11, 23, 10, 0, 0, 0, london), london, monFri, 2,
			[]string{"2026-11-23"}, time.Date(2026, 11, 26, 0, 0, 0, 0, london)},
		{"Christmas: Thursday, Friday and Monday closed → end of Wednesday", time.Date(2026, 12, 24, 9, 0, 0, 0, london), london, monFri, 2,
			[]string{"2026-12-25", "2026-12-28"}, time.Date(2026, 12, 31, 0, 0, 0, 0, london)},
		{"a closed day after the due day changes nothing", time.Date(2026, 11, 16, 9, 0, 0, 0, london), london, monFri, 2,
			[]string{"2026-11-19"}, time.Date(2026, 11, 19, 0, 0, 0, 0, london)},
		// Closed days are local dates: Friday 22:00 in New York is Saturday
		// in UTC; Monday in New York is closed, so the case is due end of Wednesday.
		{"closed day in the local calendar, New York", time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC), ny, monFri, 2,
			[]string{"2026-11-23"}, time.Date(2026, 11, 26, 0, 0, 0, 0, ny)},
		// Monday 10:00 in Auckland is Sunday 21:00 UTC; counted in UTC the
		// case would be due end of Wednesday, closed Tuesday or not.
		{"closed day in the local calendar, Auckland", time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC), auckland, monFri, 2,
			[]string{"2026-11-24"}, time.Date(2026, 11, 27, 0, 0, 0, 0, auckland)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueAt(tt.opened, tt.loc, Rules{WorkingDays: tt.days, DueWorkingDays: tt.n, ClosedDays: tt.closed})
			if !got.Equal(tt.want) {
				t.Fatalf("got %s, want %s", got.UTC(), tt.want.UTC())
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{StatusNew, StatusContacted, true},
		{StatusNew, StatusClosed, true},
		{StatusNew, StatusResolved, false},
		{StatusContacted, StatusResolved, true},
		{StatusContacted, StatusClosed, false},
		{StatusResolved, StatusContacted, true},
		{StatusClosed, StatusNew, true},
		{StatusClosed, StatusResolved, false},
	}
	for _, tt := range tests {
		if got := CanMove(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanMove(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}

func TestParseDays(t *testing.T) {
	d, err := ParseDays("5, 1,2,2")
	if err != nil || !slices.Equal(d, []time.Weekday{1, 2, 5}) {
		t.Fatalf("got %v %v", d, err)
	}
	if FormatDays(d) != "1,2,5" {
		t.Fatalf("FormatDays = %q", FormatDays(d))
	}
	if _, err := ParseDays("1,9"); err == nil {
		t.Fatal("day 9 accepted")
	}
}

func TestRulesCheck(t *testing.T) {
	hundred := make([]string, 0, 101)
	for d := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC); len(hundred) < 100; d = d.AddDate(0, 0, 1) {
		hundred = append(hundred, d.Format(DateLayout))
	}
	with := func(f func(*Rules)) Rules { r := DefaultRules(); f(&r); return r }
	tests := []struct {
		name  string
		r     Rules
		field string // "" when the rules are fine
		want  string // part of the message
	}{
		{"defaults", DefaultRules(), "", ""},
		{"closed days", with(func(r *Rules) { r.ClosedDays = []string{"2026-12-28", "2026-12-25"} }), "", ""},
		{"a hundred closed days", with(func(r *Rules) { r.ClosedDays = hundred }), "", ""},
		{"repeats count once", with(func(r *Rules) { r.ClosedDays = append(slices.Clone(hundred), hundred[0]) }), "", ""},
		{"a hundred and one", with(func(r *Rules) { r.ClosedDays = append(slices.Clone(hundred), "2027-01-01") }), "closed_days", "at most 100"},
		{"no such day", with(func(r *Rules) { r.ClosedDays = []string{"2026-02-30"} }), "closed_days", `"2026-02-30" is not a date`},
		{"day first", with(func(r *Rules) { r.ClosedDays = []string{"25/12/2026"} }), "closed_days", "YYYY-MM-DD"},
		{"no leading zero", with(func(r *Rules) { r.ClosedDays = []string{"2026-12-1"} }), "closed_days", "YYYY-MM-DD"},
		{"a time too", with(func(r *Rules) { r.ClosedDays = []string{"2026-12-25T00:00:00Z"} }), "closed_days", "YYYY-MM-DD"},
		{"no due days", with(func(r *Rules) { r.DueWorkingDays = 0 }), "due_working_days", "between 1 and 30"},
		{"no working days", with(func(r *Rules) { r.WorkingDays = nil }), "working_days", "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.r.Check()
			if tt.field == "" {
				if f != nil {
					t.Fatalf("got %v, want no problems", f)
				}
				return
			}
			if len(f) != 1 || !strings.Contains(f[tt.field], tt.want) {
				t.Fatalf("got %v, want %s: …%s…", f, tt.field, tt.want)
			}
		})
	}
}

func TestClosedDaysForms(t *testing.T) {
	tests := []struct {
		typed  string
		stored string
	}{
		{"", ""},
		{"2026-12-28\r\n2026-12-25\n\n", "2026-12-25,2026-12-28"},
		{" 2026-12-25 , 2026-12-28;2026-12-25 2027-01-01", "2026-12-25,2026-12-28,2027-01-01"},
	}
	for _, tt := range tests {
		got := FormatClosedDays(SplitClosedDays(tt.typed))
		if got != tt.stored {
			t.Errorf("%q: stored %q, want %q", tt.typed, got, tt.stored)
		}
		back, err := ParseClosedDays(got)
		if err != nil || FormatClosedDays(back) != got {
			t.Errorf("%q: read back %v %v", got, back, err)
		}
	}
	if d, err := ParseClosedDays(""); err != nil || d != nil {
		t.Errorf("empty: %v %v", d, err)
	}
	if _, err := ParseClosedDays("2026-12-25,2026-13-01"); err == nil {
		t.Error("month 13 read back")
	}
}
