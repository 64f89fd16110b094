package textfeat

import "testing"

// wordFeats counts the word features (not rules) of text by hash.
func wordFeats(x *Extractor, text string, intent int) map[uint64]int {
	var d Doc
	x.Extract(text, intent, &d)
	out := map[uint64]int{}
	for _, f := range d.Feats {
		if !f.Rule {
			out[f.H]++
		}
	}
	return out
}

func TestBinaryCountsEachWordOnce(t *testing.T) {
	text := "wait wait wait, the wait was long and the wait was awful"
	tests := []struct {
		name   string
		opt    Options
		maxRep int // most times one word feature may appear
	}{
		{"counts", Options{}, 5},
		{"binary", Options{Binary: true}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			most := 0
			for _, n := range wordFeats(NewExtractorWith(tc.opt), text, IntentOpen) {
				most = max(most, n)
			}
			if most != tc.maxRep {
				t.Errorf("most repeated word feature appears %d times, want %d", most, tc.maxRep)
			}
		})
	}
}

// TestBinaryEveryKind: Binary drops repeats of every kind of word feature
// (each is checked as it is made) and nothing else: the same features as
// counting, once each.
func TestBinaryEveryKind(t *testing.T) {
	text := "wait wait wait, the wait was long and the wait was awful, waited and waited"
	tests := []struct {
		name   string
		opt    Options
		intent int
	}{
		{"intent words and pairs", Options{IntentWords: true, IntentPairs: true}, IntentImprove},
		{"char grams", Options{CharGrams: 3, CharMinLen: 3}, IntentOpen},
		{"one-letter grams", Options{CharGrams: 1}, IntentPraise},
		{"theme context", Options{ThemeContext: 3}, IntentOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			counted := wordFeats(NewExtractorWith(tc.opt), text, tc.intent)
			tc.opt.Binary = true
			binary := wordFeats(NewExtractorWith(tc.opt), text, tc.intent)
			if len(binary) != len(counted) {
				t.Errorf("%d distinct word features with Binary, %d without", len(binary), len(counted))
			}
			for h, n := range binary {
				if n != 1 || counted[h] == 0 {
					t.Errorf("feature %x: %d times with Binary, %d without", h, n, counted[h])
				}
			}
		})
	}
}

func TestBinaryKeepsRuleSums(t *testing.T) {
	// The lexicon features are sums over the comment; deduplication must not
	// touch them, or "awful ... awful" would read like one mild complaint.
	text := "awful wait, awful staff, awful food"
	var plain, bin Doc
	NewExtractorWith(Options{}).Extract(text, IntentOpen, &plain)
	NewExtractorWith(Options{Binary: true}).Extract(text, IntentOpen, &bin)
	sum := func(d *Doc) map[uint64]float32 {
		m := map[uint64]float32{}
		for _, f := range d.Feats {
			if f.Rule {
				m[f.H] += f.V
			}
		}
		return m
	}
	a, b := sum(&plain), sum(&bin)
	if len(a) != len(b) {
		t.Fatalf("rule features: %d without binary, %d with", len(a), len(b))
	}
	for h, v := range a {
		if b[h] != v {
			t.Errorf("rule feature %x: %v without binary, %v with", h, v, b[h])
		}
	}
}

func TestIntentWords(t *testing.T) {
	x := NewExtractorWith(Options{IntentWords: true})
	tests := []struct {
		intent  int
		crossed bool
	}{
		{IntentOpen, false}, // the plain words already serve open questions
		{IntentPraise, true},
		{IntentImprove, true},
	}
	seen := map[uint64]int{}
	for _, tc := range tests {
		var d Doc
		x.Extract("more staff", tc.intent, &d)
		n := 0
		for _, f := range d.Feats {
			if f.Intent {
				n++
				if prev, ok := seen[f.H]; ok && prev != tc.intent {
					t.Errorf("intent %d reuses the crossed feature of intent %d", tc.intent, prev)
				}
				seen[f.H] = tc.intent
				if f.Rule {
					t.Errorf("intent-crossed word marked as a rule feature")
				}
			}
		}
		if got := n > 0; got != tc.crossed {
			t.Errorf("intent %d: %d crossed features, want crossed=%v", tc.intent, n, tc.crossed)
		}
	}
}

func TestCharGrams(t *testing.T) {
	tests := []struct {
		word string
		n    int
		want int // n-grams over "^word$"
	}{
		{"wait", 4, 3},        // ^wai wait ait$
		{"Wait", 4, 3},        // case does not matter
		{"wa", 4, 1},          // ^wa$ is exactly one 4-gram
		{"don't", 3, 4},       // ^do don ont nt$: the apostrophe is skipped
		{"", 3, 0},            // ^$ is shorter than any gram
		{"appointment", 5, 9}, // 13 bytes with the marks
	}
	for _, tc := range tests {
		got := charGrams(tc.word, tc.n, 0, nil)
		if len(got) != tc.want {
			t.Errorf("charGrams(%q, %d): %d grams, want %d", tc.word, tc.n, len(got), tc.want)
		}
	}
	a := charGrams("wait", 4, 0, nil)
	b := charGrams("WAIT", 4, 0, nil)
	for i := range a {
		if a[i].H != b[i].H {
			t.Errorf("gram %d differs between cases", i)
		}
	}
	// A misspelling shares most grams with the right spelling.
	shared := 0
	right := map[uint64]bool{}
	for _, f := range charGrams("appointment", 4, 0, nil) {
		right[f.H] = true
	}
	wrong := charGrams("apointment", 4, 0, nil)
	for _, f := range wrong {
		if right[f.H] {
			shared++
		}
	}
	if shared*3 < len(wrong)*2 {
		t.Errorf("apointment shares %d of %d grams with appointment", shared, len(wrong))
	}
}

func TestBinaryReusedDoc(t *testing.T) {
	// The set is reused across comments: a word seen in the previous comment
	// must still count in the next one.
	x := NewExtractorWith(Options{Binary: true})
	var reused Doc
	for i, text := range []string{"rude staff", "rude staff", "long wait, rude staff rude"} {
		x.Extract(text, IntentOpen, &reused)
		var fresh Doc
		x.Extract(text, IntentOpen, &fresh)
		if len(reused.Feats) != len(fresh.Feats) {
			t.Fatalf("comment %d: %d features with a reused Doc, %d with a fresh one", i, len(reused.Feats), len(fresh.Feats))
		}
		for j := range fresh.Feats {
			if reused.Feats[j] != fresh.Feats[j] {
				t.Errorf("comment %d feature %d differs", i, j)
			}
		}
	}
}

// TestThemeContext: with Options.ThemeContext the words near a theme
// pattern's match (same clause, within the window) come out as theme-only
// features, and none without it.
func TestThemeContext(t *testing.T) {
	const text = "We waited three hours in the corridor, the nurse was kind"
	tests := []struct {
		name   string
		window int
	}{
		{"off", 0},
		{"one word", 1},
		{"three words", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := NewExtractorWith(Options{Binary: true, ThemeContext: tc.window})
			var d Doc
			x.Extract(text, IntentOpen, &d)
			n := 0
			for _, f := range d.Feats {
				if !f.Theme {
					continue
				}
				n++
				near := false
				for th := range d.RuleTok {
					for _, ti := range d.RuleTok[th] {
						dist := int(f.Tok) - int(ti)
						if dist != 0 && dist >= -tc.window && dist <= tc.window && d.TokClause[ti] == d.TokClause[f.Tok] {
							near = true
						}
					}
				}
				if !near {
					t.Errorf("theme feature at token %d is not within %d words of a pattern in its clause", f.Tok, tc.window)
				}
			}
			if (n > 0) != (tc.window > 0) {
				t.Errorf("window %d: %d theme features", tc.window, n)
			}
		})
	}
}

// TestOpposition: the praise-meets-complaint features exist only with the
// option, and are zero-valued unless both sides are there.
func TestOpposition(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		opt      bool
		wantFeat bool
		wantPos  bool // some opposition feature is positive
	}{
		{"off", "The nurse was lovely but the wait was awful", false, false, false},
		{"both sides", "The nurse was lovely but the wait was awful", true, true, true},
		{"praise only", "The nurse was lovely and kind", true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := NewExtractorWith(Options{Binary: true, Opposition: tc.opt})
			var d Doc
			x.Extract(tc.text, IntentOpen, &d)
			found, pos := false, false
			for _, f := range d.Feats {
				if f.H == ftOppLex || f.H == ftOppClause {
					found = true
					pos = pos || f.V > 0
				}
			}
			if found != tc.wantFeat || pos != tc.wantPos {
				t.Errorf("features present %v, positive %v; want %v, %v", found, pos, tc.wantFeat, tc.wantPos)
			}
		})
	}
}

// TestThemeRules checks the hand-written theme rules on their own, before any
// model: which themes a text's patterns name, which it names outright (Sure),
// and the sign of the lexicon reading they leave.
func TestThemeRules(t *testing.T) {
	x := NewExtractor()
	bits := func(ths ...int) uint16 {
		var b uint16
		for _, th := range ths {
			b |= 1 << th
		}
		return b
	}
	tests := []struct {
		text  string
		rules uint16 // themes with a rule hit
		sure  uint16
		sign  int // sign of Pos − Neg: -1, 0 (not checked), +1
	}{
		// One phrase, two themes: "called back" is follow-up, and negated it
		// is also being ignored.
		{"They called back the next day", bits(ThFollow), 0, 0},
		{"They never called back", bits(ThFollow, ThIgnored), 0, -1},
		// A negator reaches past the 3-word scope when nothing else is between...
		{"Nobody at the front desk even looked up", bits(ThIgnored, ThAccess), 0, -1},
		{"She didn't take my worries seriously", bits(ThDismissed), 0, -1},
		// ...but not across an opinion word, nor across "and".
		{"Couldn't fault the way they listened", 0, 0, +1},
		{"No fuss and they listened", 0, 0, 0},
		// A negated complaint word is no complaint.
		{"I never once felt rushed", 0, 0, +1},
		{"I felt rushed", bits(ThDismissed), 0, -1},
		// A theme word under negation: a problem that did not happen is
		// praise, a service that did not happen a complaint.
		{"The staff were not rude at all", bits(ThStaff), 0, +1},
		{"I didn't have to wait", bits(ThWait), 0, +1},
		{"Not a long wait", bits(ThWait), 0, +1},
		{"The doctor didn't explain anything", bits(ThComm), 0, -1},
		{"The ambulance was not on time", bits(ThWait), 0, -1},
		// Words the training comments never use name their theme outright.
		{"The patient portal kept logging me out", bits(ThAccess), bits(ThAccess), 0},
		{"Too much jargon", bits(ThComm), bits(ThComm), -1},
		{"Paying for parking every day", bits(ThEnv, ThBilling), bits(ThEnv), 0},
		{"No parking spaces left", bits(ThEnv), bits(ThEnv), 0},
		{"I waited on the doctor's advice", bits(ThComm), 0, 0}, // advice, but no wait
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			var d Doc
			x.Extract(tc.text, IntentOpen, &d)
			var got uint16
			for th := range d.RuleTok {
				if len(d.RuleTok[th]) > 0 {
					got |= 1 << th
				}
			}
			if got != tc.rules {
				t.Errorf("rule themes %011b, want %011b", got, tc.rules)
			}
			if d.Sure != tc.sure {
				t.Errorf("sure themes %011b, want %011b", d.Sure, tc.sure)
			}
			if v := d.Pos - d.Neg; tc.sign < 0 && v >= 0 || tc.sign > 0 && v <= 0 {
				t.Errorf("lexicon reading %+.2f, want sign %+d", v, tc.sign)
			}
		})
	}
}
