package analytics

import (
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustNew(tb testing.TB) *Analyzer {
	tb.Helper()
	a, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func themeIDs(r Result) []string {
	ids := []string{}
	for _, h := range r.Themes {
		ids = append(ids, h.ID)
	}
	return ids
}

func theme(r Result, id string) (ThemeHit, bool) {
	for _, h := range r.Themes {
		if h.ID == id {
			return h, true
		}
	}
	return ThemeHit{}, false
}

// checkInvariants holds for every result: score in range, themes in taxonomy
// order, evidence a slice of the text.
func checkInvariants(t *testing.T, text string, r Result) {
	t.Helper()
	if r.Score < -1 || r.Score > 1 || math.IsNaN(r.Score) {
		t.Errorf("score %v outside [-1, 1]", r.Score)
	}
	if r.Themes == nil {
		t.Error("Themes is nil, want empty slice")
	}
	if r.Version != Version {
		t.Errorf("version %q, want %q", r.Version, Version)
	}
	switch r.Sentiment {
	case Positive, Neutral, Negative, Mixed:
	default:
		t.Errorf("sentiment %q", r.Sentiment)
	}
	last := -1
	for _, h := range r.Themes {
		i := slices.Index(ThemeIDs, h.ID)
		if i <= last {
			t.Errorf("themes %v not in taxonomy order", themeIDs(r))
		}
		last = i
		if h.Start < 0 || h.End > len(text) || h.Start > h.End {
			t.Fatalf("theme %s offsets [%d,%d) outside text of %d bytes", h.ID, h.Start, h.End, len(text))
		}
		if text[h.Start:h.End] != h.Evidence {
			t.Errorf("theme %s evidence %q != text[%d:%d] %q", h.ID, h.Evidence, h.Start, h.End, text[h.Start:h.End])
		}
		if (h.ID == "ignored" || h.ID == "dismissed") && h.Polarity != Negative {
			t.Errorf("%s with polarity %s: complaint-only theme", h.ID, h.Polarity)
		}
	}
	for _, s := range r.Sentences {
		if s.Start < 0 || s.End > len(text) || s.Start > s.End || s.Score < -1 || s.Score > 1 {
			t.Errorf("sentence %+v out of range", s)
		}
	}
}

func TestSentiment(t *testing.T) {
	a := mustNew(t)
	tests := []struct {
		name   string
		text   string
		intent Intent
		want   []string // any of these labels
	}{
		{"Praise", "The nurses were kind and caring, thank you so much", IntentOpen, []string{Positive}},
		{"Complaint", "The receptionist was rude and unhelpful", IntentOpen, []string{Negative}},
		{"NegatedNegative", "Staff were not rude at all", IntentOpen, []string{Positive}},
		{"NeverOnceRushed", "I never once felt rushed", IntentOpen, []string{Positive}},
		// A negated problem is praise, though the word is a theme's.
		{"NoWait", "I didn't have to wait at all", IntentOpen, []string{Positive}},
		{"NoDelays", "No delays whatsoever", IntentOpen, []string{Positive}},
		{"NeverTrouble", "Never had any trouble getting through on the phone", IntentOpen, []string{Positive}},
		{"NotListenedTo", "I wasn't listened to", IntentOpen, []string{Negative}},
		{"NegatedPraise", "The doctor was not helpful and not kind", IntentOpen, []string{Negative}},
		{"NoProblems", "No problems at all, everything was fine", IntentOpen, []string{Positive}},
		{"Intensifier", "Absolutely brilliant service, extremely professional", IntentOpen, []string{Positive}},
		{"Exclamation", "Brilliant!!!", IntentOpen, []string{Positive}},
		{"Capitals", "TERRIBLE SERVICE, NEVER AGAIN", IntentOpen, []string{Negative}},
		{"Contrast", "The nurse was lovely but the wait was awful", IntentOpen, []string{Mixed}},
		{"ContrastOtherWay", "The food was awful but the staff were wonderful and so kind", IntentOpen, []string{Mixed, Positive}},
		{"Misspelt", "Very proffesional and freindly, excellant care", IntentOpen, []string{Positive}},
		{"Mojibake", "The doctor didnâ€™t explain anything and I left confused", IntentOpen, []string{Negative}},
		{"DoubleMojibake", "Couldnâ€™t fault them, brilliant", IntentOpen, []string{Positive}},
		{"EmojiPositive", "😊👍", IntentOpen, []string{Positive}},
		{"EmojiNegative", "😡😡", IntentOpen, []string{Negative, Neutral}},
		{"WishIsComplaint", "Answer calls quicker", IntentImprove, []string{Negative}},
		{"MoreStaff", "More staff on the ward at night", IntentImprove, []string{Negative, Neutral}},
		// "clean" is a command only with an object after it.
		{"CleanIsPraise", "Clean ward", IntentPraise, []string{Positive}},
		{"CleanListIsPraise", "Kind nurses, clean ward", IntentPraise, []string{Positive}},
		{"CleanTheIsAdvice", "Clean the toilets more often", IntentImprove, []string{Negative}},
		{"Spanish", "El personal fue muy amable, excelente atención", IntentOpen, []string{Positive}},
		{"SpanishComplaint", "La espera fue muy larga y el médico fue grosero", IntentOpen, []string{Negative, Mixed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze(tt.text, tt.intent)
			checkInvariants(t, tt.text, r)
			if !slices.Contains(tt.want, r.Sentiment) {
				t.Errorf("Analyze(%q): got %s (%.2f), want one of %v", tt.text, r.Sentiment, r.Score, tt.want)
			}
			switch {
			case r.Sentiment == Positive && r.Score <= 0:
				t.Errorf("positive with score %.2f", r.Score)
			case r.Sentiment == Negative && r.Score >= 0:
				t.Errorf("negative with score %.2f", r.Score)
			}
		})
	}
}

func TestIntent(t *testing.T) {
	a := mustNew(t)
	tests := []struct {
		text   string
		intent Intent
		want   string
	}{
		{"Nothing", IntentImprove, Positive},
		{"None.", IntentImprove, Positive},
		{"n/a", IntentImprove, Positive},
		{"Can't think of anything", IntentImprove, Positive},
		{"Nothing at all, keep it up", IntentImprove, Positive},
		{"Nothing", IntentPraise, Negative},
		{"None", IntentPraise, Negative},
		{"n/a", IntentPraise, Negative},
	}
	for _, tt := range tests {
		t.Run(string(tt.intent)+"/"+tt.text, func(t *testing.T) {
			r := a.Analyze(tt.text, tt.intent)
			checkInvariants(t, tt.text, r)
			if r.Sentiment != tt.want {
				t.Errorf("got %s, want %s", r.Sentiment, tt.want)
			}
			if len(r.Themes) != 0 {
				t.Errorf("themes %v, want none", themeIDs(r))
			}
		})
	}
}

func TestIntentFor(t *testing.T) {
	tests := []struct {
		question string
		want     Intent
	}{
		{"How could we improve?", IntentImprove},
		{"What could we do better?", IntentImprove},
		{"What would you change?", IntentImprove},
		{"What was good?", IntentPraise},
		{"What went well?", IntentPraise},
		{"What did you like about your visit?", IntentPraise},
		{"FFT Why?", IntentOpen},
		{"", IntentOpen},
		{"¿Qué podríamos mejorar?", IntentImprove},
	}
	for _, tt := range tests {
		if got := IntentFor(tt.question); got != tt.want {
			t.Errorf("IntentFor(%q): got %s, want %s", tt.question, got, tt.want)
		}
	}
}

// TestThemes gives each theme a complaint, a compliment and a near miss that
// must not fire.
func TestThemes(t *testing.T) {
	a := mustNew(t)
	tests := []struct {
		theme   string
		text    string
		present bool
		pol     string // expected polarity when present; "" = any
	}{
		{"wait_times", "We waited over three hours in the waiting room", true, Negative},
		{"wait_times", "Seen promptly, the ambulance arrived within ten minutes", true, Positive},
		{"wait_times", "I waited on the doctor's advice before taking the tablets", false, ""},
		// Negation: a problem that did not happen is praise; a service that
		// did not happen is a complaint.
		{"wait_times", "I didn't have to wait at all", true, Positive},
		{"wait_times", "Not a long wait, very efficient", true, Positive},
		{"wait_times", "The ambulance was not on time", true, Negative},
		{"staff_attitude", "The staff were not rude at all", true, Positive},
		{"billing", "There was no charge for the visit", true, Positive},

		{"ignored", "Nobody came when I pressed the buzzer", true, Negative},
		{"ignored", "My calls and messages went unanswered for weeks", true, Negative},
		{"ignored", "The nurse checked on me every hour and was lovely", false, ""},
		// A negator reaches a complaint-only word past sentiment's 3-word scope.
		{"ignored", "Nobody at the front desk even looked up", true, Negative},
		{"ignored", "The surgery said they would ring and never called back", true, Negative},
		{"ignored", "Staff were chatting among themselves while I stood at the counter", true, Negative},
		{"ignored", "They returned my call within the hour", false, ""},
		{"ignored", "I looked up the clinic on the map", false, ""},

		{"dismissed", "The doctor brushed off my concerns and I felt rushed", true, Negative},
		{"dismissed", "I wasn't listened to and not taken seriously", true, Negative},
		{"dismissed", "They listened to everything I said", false, ""},
		{"dismissed", "She didn't take my worries seriously at all", true, Negative},
		{"dismissed", "The consultant made me feel like a nuisance for asking", true, Negative},
		{"dismissed", "He said it was all in my head", true, Negative},
		{"dismissed", "I never once felt rushed", false, ""},
		{"dismissed", "Never felt brushed aside, they took every worry on board", false, ""},
		// The negation belongs to "fault", not to "listened".
		{"dismissed", "Couldn't fault the way they listened", false, ""},

		{"staff_attitude", "The receptionist was rude and arrogant", true, Negative},
		{"staff_attitude", "Staff were kind, caring and respectful", true, Positive},
		{"staff_attitude", "The leaflet was in the drawer", false, ""},

		{"communication", "Nobody kept us informed and the letter was full of jargon", true, Negative},
		{"communication", "The doctor explained everything clearly", true, Positive},
		{"communication", "The car park was full", false, ""},

		{"access", "Couldn't get through on the phone to book an appointment", true, Negative},
		{"access", "Booking online through the portal was easy", true, Positive},
		{"access", "The surgery went well and the pain has gone", false, ""},

		{"environment", "The toilets were dirty and the ward was noisy", true, Negative},
		{"environment", "The room was clean and comfortable and the food was lovely", true, Positive},
		{"environment", "Clean ward", true, Positive},
		{"environment", "Clean the toilets", true, Negative},
		{"environment", "The nurse was polite", false, ""},

		{"clinical_care", "They misdiagnosed me and the pain was never managed", true, Negative},
		{"clinical_care", "The treatment worked and the physiotherapy helped my recovery", true, Positive},
		{"clinical_care", "Parking was easy", false, ""},

		{"follow_up", "I never got a call back about my results", true, Negative},
		{"follow_up", "They followed up with a referral to the specialist straight away", true, ""},
		{"follow_up", "The receptionist smiled", false, ""},

		{"billing", "I was charged twice and the bill was wrong", true, Negative},
		{"billing", "No charge for parking and the copay was explained up front", true, ""},
		{"billing", "The staff paid attention to every detail", false, ""},

		{"privacy", "Everyone in the waiting room overheard my private details", true, Negative},
		{"privacy", "They drew the curtain and respected my privacy and dignity", true, Positive},
		{"privacy", "The ambulance crew were quick", false, ""},
		{"privacy", "The receptionist read my test results out loud", true, Negative},
		{"privacy", "The walls are so thin you can hear every word next door", true, ""},
		{"privacy", "I heard the good news from my consultant", false, ""},
		{"billing", "Paying for parking every single day adds up", true, ""},
		// SPEC's words that the training comments never use name their theme.
		{"environment", "Paying for parking every single day adds up", true, ""},
		{"environment", "There were no parking spaces left", true, ""},
		{"access", "The patient portal logged me out every time", true, ""},
		{"access", "Stuck on hold for forty minutes", true, ""},
		{"communication", "The consultant used so much medical jargon", true, ""},
	}
	for _, tt := range tests {
		name := tt.theme + "/" + map[bool]string{true: "hit", false: "nearmiss"}[tt.present]
		t.Run(name, func(t *testing.T) {
			r := a.Analyze(tt.text, IntentOpen)
			checkInvariants(t, tt.text, r)
			h, ok := theme(r, tt.theme)
			if ok != tt.present {
				t.Fatalf("Analyze(%q): themes %v; want %s present=%v", tt.text, themeIDs(r), tt.theme, tt.present)
			}
			if ok && tt.pol != "" && h.Polarity != tt.pol {
				t.Errorf("%s polarity %s, want %s (evidence %q)", tt.theme, h.Polarity, tt.pol, h.Evidence)
			}
			if ok && h.Evidence == "" {
				t.Error("empty evidence")
			}
		})
	}
}

func TestContrastThemePolarity(t *testing.T) {
	a := mustNew(t)
	text := "The nurse was lovely but the wait was awful"
	r := a.Analyze(text, IntentOpen)
	checkInvariants(t, text, r)
	if r.Sentiment != Mixed {
		t.Errorf("got %s, want mixed", r.Sentiment)
	}
	w, ok := theme(r, "wait_times")
	if !ok || w.Polarity != Negative {
		t.Errorf("wait_times %+v, want a negative hit", w)
	}
	if s, ok := theme(r, "staff_attitude"); ok && s.Polarity != Positive {
		t.Errorf("staff_attitude polarity %s, want positive", s.Polarity)
	}
}

func TestEdgeCases(t *testing.T) {
	a := mustNew(t)
	long := strings.Repeat("The staff were lovely but the wait was long. ", 112)[:5000]
	tests := []struct {
		name string
		text string
	}{
		{"Empty", ""},
		{"Spaces", "   \n\t "},
		{"Long5000", long},
		{"EmojiOnly", "🙂🙂🙂"},
		{"Punctuation", "?!?!...,,;;"},
		{"Numbers", "10/10"},
		{"InvalidUTF8", "good \xff\xfe bad"},
		{"Mixed languages", "Staff muy amable pero the wait was terrible"},
		{"CJK", "医生很好"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze(tt.text, IntentOpen)
			checkInvariants(t, tt.text, r)
		})
	}
	if r := a.Analyze("", IntentImprove); r.Sentiment != Neutral || len(r.Themes) != 0 || r.Score != 0 {
		t.Errorf("empty text: got %+v, want neutral with no themes", r)
	}
	if r := a.Analyze(long, IntentOpen); len(r.Sentences) < 100 {
		t.Errorf("5,000 characters: %d sentences, want one per sentence", len(r.Sentences))
	}
}

// TestBlank: the analyzer's early exit must agree with
// strings.TrimSpace(text) == "", Unicode spaces included.
func TestBlank(t *testing.T) {
	tests := []struct {
		name, text string
	}{
		{"Empty", ""},
		{"ASCII spaces", " \t\n\v\f\r "},
		{"No-break space", "\u00a0"},
		{"Ideographic space after ASCII", "  \u3000\n"},
		{"Next line", "\u0085"},
		{"Word", "ok"},
		{"Word after spaces", " \t x"},
		{"Word after Unicode space", "\u00a0x"},
		{"Accented letter", "é"},
		{"Invalid UTF-8", "\xff"},
		{"Space then emoji", " 🙂"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := blank(tc.text), strings.TrimSpace(tc.text) == ""; got != want {
				t.Errorf("blank(%q) = %v, want %v", tc.text, got, want)
			}
		})
	}
}

func TestConcurrent(t *testing.T) {
	a := mustNew(t)
	texts := []string{"The nurse was lovely but the wait was awful", "Nothing", "Rude receptionist", ""}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = a.Analyze(s, IntentImprove)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := n % len(texts)
				got := a.Analyze(texts[i], IntentImprove)
				if got.Sentiment != want[i].Sentiment || got.Score != want[i].Score || len(got.Themes) != len(want[i].Themes) {
					t.Errorf("concurrent result for %q differs", texts[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// readFixture reads testdata/fixture.csv, our own labelled sentences.
func readFixture(t *testing.T) []Labelled {
	t.Helper()
	return readLabelled(t, "testdata/fixture.csv")
}

// readLabelled reads an eval file.
func readLabelled(tb testing.TB, path string) []Labelled {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadLabelled(f)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// TestFixture scores our own labelled sentences (testdata/fixture.csv); the
// floors guard against regressions when rules or the model change.
func TestFixture(t *testing.T) {
	rep := Evaluate(mustNew(t), readFixture(t), 0)
	const sentimentFloor, themeFloor = 0.80, 0.75
	if rep.SentimentMacroF1 < sentimentFloor {
		t.Errorf("fixture sentiment macro-F1 %.3f, floor %.2f", rep.SentimentMacroF1, sentimentFloor)
	}
	// The fixture has few examples per theme, so average over all labelled themes.
	var sum float64
	var n int
	for _, c := range rep.Themes {
		if c.Support > 0 {
			sum += c.F1
			n++
		}
	}
	if n == 0 || sum/float64(n) < themeFloor {
		t.Errorf("fixture theme macro-F1 %.3f over %d themes, floor %.2f", sum/float64(max(n, 1)), n, themeFloor)
	}
}

// TestBroadFixture scores testdata/broad.csv: 133 comments written by us in
// the ways US and UK clinic patients write, unlike the NHS training comments,
// with the themes those rarely show (ignored, dismissed, privacy, billing) and
// near-misses for each. The analyzer is far weaker here than on NHS comments
// (BENCHMARKS.md, "Analyzer 1.3.0"); the floors sit a little under what 1.3.0
// scores, to catch a change that loses ground on them.
func TestBroadFixture(t *testing.T) {
	rep := Evaluate(mustNew(t), readLabelled(t, "testdata/broad.csv"), 0)
	floors := map[string]float64{"sentiment macro": 0.55, "theme macro": 0.42, "ignored": 0.32,
		"dismissed": 0.35, "billing": 0.70, "privacy": 0.49}
	got := map[string]float64{"sentiment macro": rep.SentimentMacroF1, "theme macro": rep.ThemeMacroF1}
	for _, c := range rep.Themes {
		got[c.Label] = c.F1
	}
	for name, floor := range floors {
		if got[name] < floor {
			t.Errorf("broad fixture %s F1 %.3f, floor %.2f", name, got[name], floor)
		}
	}
}

func TestNewWithModelRejectsGarbage(t *testing.T) {
	if _, err := NewWithModel([]byte("not a model")); err == nil {
		t.Error("NewWithModel(garbage): got nil error")
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "Nothing", "The nurse was lovely but the wait was awful", "didnâ€™t",
		"Ã¢â‚¬â„¢", "😡", "no no no not never", "\xff", strings.Repeat("a-", 100), "¿Qué?", "x-ray!!!"} {
		f.Add(s, 0)
	}
	a := mustNew(f)
	intents := []Intent{IntentOpen, IntentPraise, IntentImprove}
	f.Fuzz(func(t *testing.T, text string, in int) {
		r := a.Analyze(text, intents[(in%3+3)%3])
		checkInvariants(t, text, r)
	})
}
