package redact

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// shared is loaded once: the model takes about 0.4 s.
var shared = sync.OnceValue(New)

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		c    Counts
	}{
		// Phones, US and UK.
		{"USParens", "call me at (555) 123-4567 please", "call me at [phone] please", Counts{Phone: 1}},
		{"USDashes", "my number is 555-123-4567.", "my number is [phone].", Counts{Phone: 1}},
		{"USDots", "555.123.4567", "[phone]", Counts{Phone: 1}},
		{"USCountryCode", "+1 555 123 4567", "[phone]", Counts{Phone: 1}},
		{"USBare", "text 5551234567 anytime", "text [phone] anytime", Counts{Phone: 1}},
		{"UKMobile", "ring 07700 900123", "ring [phone]", Counts{Phone: 1}},
		{"UKMobileCompact", "ring 07700900123", "ring [phone]", Counts{Phone: 1}},
		{"UKPlus44", "ring +44 7700 900123", "ring [phone]", Counts{Phone: 1}},
		{"UKPlus44Zero", "ring +44 (0)20 7946 0958", "ring [phone]", Counts{Phone: 1}},
		{"UKLondon", "020 7946 0958 is the ward", "[phone] is the ward", Counts{Phone: 1}},
		{"UKAreaParens", "(0161) 496 0000", "[phone]", Counts{Phone: 1}},
		{"Spanish", "llámame al +34 612 345 678", "llámame al [phone]", Counts{Phone: 1}},
		{"TwoPhones", "07700 900123 or 555-123-4567", "[phone] or [phone]", Counts{Phone: 2}},

		// Emails.
		{"Email", "write to jane.doe+nhs@example.co.uk.", "write to [email].", Counts{Email: 1}},
		{"EmailUpper", "JOHN@EXAMPLE.ORG", "[email]", Counts{Email: 1}},

		// Dates.
		{"DateSlashes", "seen on 12/03/2024", "seen on [date]", Counts{Date: 1}},
		{"DateShortYear", "seen 3/12/24", "seen [date]", Counts{Date: 1}},
		{"DateISO", "since 2024-03-12 nothing", "since [date] nothing", Counts{Date: 1}},
		{"DateDayMonthYear", "on 3 March 2024 I", "on [date] I", Counts{Date: 1}},
		{"DateMonthDayOrdinal", "on March 3rd the", "on [date] the", Counts{Date: 1}},
		{"DateMonthDayYear", "on March 3rd, 2024 the", "on [date] the", Counts{Date: 1}},
		{"DateOrdinalOf", "the 3rd of March", "the [date]", Counts{Date: 1}},
		{"DateAbbrev", "Dec 12 was awful", "[date] was awful", Counts{Date: 1}},
		{"DateMonthYear", "back in March 2024", "back in [date]", Counts{Date: 1}},

		// Names by title.
		{"DrSmith", "Dr Smith was great", "Dr [name] was great", Counts{Name: 1}},
		{"DrDotFullName", "Dr. John Smith listened", "Dr. [name] listened", Counts{Name: 1}},
		{"NurseJane", "Nurse Jane was lovely", "Nurse [name] was lovely", Counts{Name: 1}},
		{"MrPatel", "Mr. Patel explained it", "Mr. [name] explained it", Counts{Name: 1}},
		{"LowerTitle", "the nurse Kelly helped", "the nurse [name] helped", Counts{Name: 1}},
		{"Apostrophe", "Mrs O'Brien and Mr Garcia-Lopez", "Mrs [name] and Mr [name]", Counts{Name: 2}},
		{"SpanishTitle", "La doctora García fue amable", "La doctora [name] fue amable", Counts{Name: 1}},

		// Names by the recogniser and the given-names list.
		{"FullName", "John Smith was very kind.", "[name] was very kind.", Counts{Name: 1}},
		{"FirstNames", "Thank you to Maria and Ahmed.", "Thank you to [name] and [name].", Counts{Name: 2}},
		{"RepeatedName", "Michael was great. Michael also called back.", "[name] was great. [name] also called back.", Counts{Name: 2}},
		{"SiteNameKept", "Seen at Main Clinic by Sarah Jones", "Seen at Main Clinic by [name]", Counts{Name: 1}},

		// Near misses that must stay as they are.
		{"DrVisitTime", "Dr. visit at 10:30", "Dr. visit at 10:30", Counts{}},
		{"Minutes", "waited 45 minutes", "waited 45 minutes", Counts{}},
		{"Room", "room 12 was cold", "room 12 was cold", Counts{}},
		{"Ward", "ward 7B was noisy", "ward 7B was noisy", Counts{}},
		{"Rating", "I'd give it 4/5", "I'd give it 4/5", Counts{}},
		{"Times", "from 2pm to 4:15pm, 2 hours", "from 2pm to 4:15pm, 2 hours", Counts{}},
		{"MayVerb", "I may come back in march", "I may come back in march", Counts{}},
		{"NotADate", "bay 45 Mar", "bay 45 Mar", Counts{}},
		{"Year", "better than in 2023", "better than in 2023", Counts{}},
		{"Money", "charged $125.50 twice", "charged $125.50 twice", Counts{}},
		{"NHSNumberLike", "ref 12-555-123-4567", "ref 12-555-123-4567", Counts{}},
		{"TitleThenWord", "Nurse Practitioner helped", "Nurse Practitioner helped", Counts{}},
		{"Places", "Great service from the NHS team in London on Monday.", "Great service from the NHS team in London on Monday.", Counts{}},
		{"Empty", "", "", Counts{}},
		{"Whitespace", "  \n", "  \n", Counts{}},
		{"Emoji", "Lovely staff 😊 thank you", "Lovely staff 😊 thank you", Counts{}},

		// Everything at once.
		{"Mixed", "Dr Smith said call 07700 900123 or jane@example.org before 12/03/2024.",
			"Dr [name] said call [phone] or [email] before [date].", Counts{Phone: 1, Email: 1, Date: 1, Name: 1}},
	}
	r := shared()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, c := r.Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if c != tt.c {
				t.Errorf("Redact(%q) counts: got %+v, want %+v", tt.in, c, tt.c)
			}
		})
	}
}

func TestRedactWithoutNER(t *testing.T) {
	r := NewWithoutNER()
	got, c := r.Redact("Dr Smith and Maria said call 555-123-4567; John Smith too.")
	// Without the recogniser "Smith" after "John" is found only because
	// "John" is a common given name.
	want := "Dr [name] and [name] said call [phone]; [name] too."
	if got != want || c != (Counts{Phone: 1, Name: 3}) {
		t.Fatalf("got %q %+v, want %q", got, c, want)
	}
}

func TestCounts(t *testing.T) {
	var total Counts
	total.Add(Counts{Phone: 1, Name: 2})
	total.Add(Counts{Email: 3, Date: 4, Name: 1})
	if want := (Counts{Phone: 1, Email: 3, Date: 4, Name: 3}); total != want {
		t.Fatalf("got %+v, want %+v", total, want)
	}
	if total.Total() != 11 {
		t.Fatalf("got total %d, want 11", total.Total())
	}
	m := total.Map()
	if m["phone"] != 1 || m["email"] != 3 || m["date"] != 4 || m["name"] != 3 || len(m) != 4 {
		t.Fatalf("got map %v", m)
	}
}

// TestRedactConcurrent shares one model between goroutines; run with -race
// to hold prose to being read-only while tagging.
func TestRedactConcurrent(t *testing.T) {
	r := shared()
	in := "Nurse Jane and John Smith called 07700 900123 on 3 March 2024."
	want, _ := r.Redact(in)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				text := fmt.Sprintf("%s (%d/%d)", in, g, i)
				got, _ := r.Redact(text)
				if !strings.HasPrefix(got, want[:len(want)-1]) {
					t.Errorf("got %q, want prefix %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestDefaultIsShared(t *testing.T) {
	if Default() != Default() {
		t.Fatal("Default built two redactors")
	}
	if got, _ := Redact("Dr Smith"); got != "Dr [name]" {
		t.Fatalf("got %q", got)
	}
}

var benchComments = []string{
	"The nurse was kind but I waited 45 minutes past my appointment time.",
	"Dr Smith explained everything clearly. Thank you to Maria at reception!",
	"nobody called me back about my results, really not good enough",
	"Please call me on 07700 900123 or email jane.doe@example.org about my visit on 12/03/2024.",
	"Parking was a nightmare and the waiting room was freezing. John Smith at the desk was rude.",
}

// BenchmarkRedact measures the cost per comment with prose's recogniser;
// see the package doc for the figures.
func BenchmarkRedact(b *testing.B) {
	r := shared()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Redact(benchComments[i%len(benchComments)])
		i++
	}
}

func BenchmarkRedactParallel(b *testing.B) {
	r := shared()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.Redact(benchComments[i%len(benchComments)])
			i++
		}
	})
}

func BenchmarkRedactWithoutNER(b *testing.B) {
	r := NewWithoutNER()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Redact(benchComments[i%len(benchComments)])
		i++
	}
}
