package cases

import (
	"regexp"
	"strings"
	"unicode"
)

// Urgent categories: a comment that suggests a risk to a patient opens an
// urgent case and alerts at once, whatever its sentiment ("thank you, but I
// fell in the toilet" is praise with a fall in it).
const (
	UrgentSelfHarm   = "self_harm"
	UrgentAbuse      = "abuse"
	UrgentUnsafe     = "unsafe"
	UrgentMedication = "medication_error"
	UrgentFall       = "fall"
)

// UrgentLabels are the words staff pages and alerts use.
var UrgentLabels = map[string]string{
	UrgentSelfHarm:   "self-harm",
	UrgentAbuse:      "abuse",
	UrgentUnsafe:     "feeling unsafe",
	UrgentMedication: "medication error",
	UrgentFall:       "a fall",
}

// urgentPattern is one reviewed phrase. Go's regexp has no look-around, so
// near-misses are listed as words that may not directly follow or precede
// the match ("fell" but not "fell asleep").
type urgentPattern struct {
	// need lists literal pieces of which every match contains at least
	// one: a cheap strings.Contains check that spares running the regular
	// expression on the many comments that cannot match (regexps with \b
	// cost microseconds each, on every comment of every submission).
	need      []string
	category  string
	re        *regexp.Regexp
	notAfter  []string // a match followed by one of these is a near-miss
	notBefore []string // a match preceded by one of these is a near-miss
}

// Reviewed list. Each entry was checked against the near-misses in
// urgent_test.go; add a test with every change. We prefer a few false alarms
// to a missed one for self-harm and abuse, and stay narrow for falls and
// medication, where everyday wording ("fell asleep", "my medication") is
// common. English and Spanish, the two patient languages.
var urgentPatterns = []urgentPattern{
	// Self-harm.
	{need: []string{"myself", "my self"}, category: UrgentSelfHarm, re: regexp.MustCompile(`\b(kill(ing)?|hurt(ing)?|harm(ing)?|cut(ting)?) (myself|my self)\b`)},
	{need: []string{"suicid", "harm"}, category: UrgentSelfHarm, re: regexp.MustCompile(`\bsuicid(e|al)\b|\bself[- ]?harm`)},
	{need: []string{"life"}, category: UrgentSelfHarm, re: regexp.MustCompile(`\b(end|take|ending|taking) my (own )?life\b`)},
	{need: []string{"want to", "wanted to", "no reason to live", "better off dead"}, category: UrgentSelfHarm, re: regexp.MustCompile(`\b(don'?t|do not|no longer) want to (live|be alive|go on)\b|\bno reason to live\b|\bbetter off dead\b|\bwant(ed)? to die\b`),
		notAfter: []string{"of embarrassment", "laughing", "of laughter"}},
	{need: []string{"quitarme", "suicid", "hacerme da", "no quiero vivir"}, category: UrgentSelfHarm, re: regexp.MustCompile(`\b(quitarme la vida|suicidarme|suicid(io|a)|hacerme daño|no quiero vivir)`)},

	// Abuse, assault, safeguarding.
	{need: []string{"abus"}, category: UrgentAbuse, re: regexp.MustCompile(`\babus(e|ed|ing|ive)\b`),
		notBefore: []string{"substance", "drug", "alcohol", "opioid", "system"}},
	{need: []string{"assault", "molest", "grop", "slapped", "punched", "beat"}, category: UrgentAbuse, re: regexp.MustCompile(`\b(assault(ed)?|molest(ed)?|grop(ed|ing)|slapped|punched|beat(en)? me)\b`)},
	{need: []string{"hit", "pushed", "shoved", "grabbed", "kicked", "touched"}, category: UrgentAbuse, re: regexp.MustCompile(`\b(hit|pushed|shoved|grabbed|kicked|touched) (me|my (mother|father|mom|dad|son|daughter|child|wife|husband|partner))\b`),
		notAfter: []string{"hard", "that", "how", "when", "in the wallet"}},
	{need: []string{"inappropriate", "sexual"}, category: UrgentAbuse, re: regexp.MustCompile(`\binappropriate(ly)? touch|\btouched me inappropriately\b|\bsexual(ly)? (harass|assault|comment)`)},
	{need: []string{"maltrat", "abus", "me peg", "acoso"}, category: UrgentAbuse, re: regexp.MustCompile(`\b(maltrat(o|ada|ado|aron)|abus(o|aron|ó)|me peg(ó|aron)|acoso)`)},

	// Feeling unsafe, threats.
	{need: []string{"unsafe"}, category: UrgentUnsafe, re: regexp.MustCompile(`\bunsafe\b`),
		notBefore: []string{"never felt", "never feel", "not once felt", "didn't feel", "did not feel", "not"}},
	{need: []string{"safe", "secure"}, category: UrgentUnsafe, re: regexp.MustCompile(`\b(didn'?t|did not|don'?t|do not|never|not) (feel|felt) (safe|secure)\b`),
		notAfter: []string{"leaving", "to leave"}},
	{need: []string{"for my", "in danger", "threaten"}, category: UrgentUnsafe, re: regexp.MustCompile(`\b(afraid|scared|fear(ful)?) for my (safety|life)\b|\bin danger\b|\bthreaten(ed|ing) (me|us|to)\b`)},
	{need: []string{"segur", "en peligro", "me amenaz"}, category: UrgentUnsafe, re: regexp.MustCompile(`\bno me sent(í|i) segur[oa]\b|\ben peligro\b|\bme amenaz(ó|aron)`)},

	// Medication errors.
	{need: []string{"wrong"}, category: UrgentMedication, re: regexp.MustCompile(`\bwrong (medication|medicine|meds|drug|dose|dosage|pills?|tablets?|prescription|injection|vaccine|patient'?s? (medication|prescription))\b`)},
	{need: []string{"error", "mistake", "mix"}, category: UrgentMedication, re: regexp.MustCompile(`\b(medication|medicine|dosing|dosage|prescription|prescribing) (error|mistake|mix[- ]?up)\b`)},
	{need: []string{"overdose", "double dose", "given twice", "given double", "someone else"}, category: UrgentMedication, re: regexp.MustCompile(`\b(overdose[d]?|double dose[d]?|given (twice|double)|someone else'?s (medication|medicine|pills|prescription))\b`)},
	{need: []string{"anyway"}, category: UrgentMedication, re: regexp.MustCompile(`\b(allergic|allergy) .{0,40}\b(gave|given|prescribed) (it|me) anyway\b`)},
	{need: []string{"equivocad", "incorrect", "error de medicaci"}, category: UrgentMedication, re: regexp.MustCompile(`\b(medicamento|medicina|dosis) (equivocad[oa]|incorrect[oa])\b|\berror de medicaci(ó|o)n`)},

	// Falls.
	{need: []string{"fell", "fallen", "falling"}, category: UrgentFall, re: regexp.MustCompile(`\b(fell|fallen|falling)\b`),
		notAfter:  []string{"asleep", "apart", "through", "short", "behind", "ill", "sick", "silent", "quiet", "in love", "into place", "on deaf ears", "out", "for it", "off the list", "off my list", "off the radar"},
		notBefore: []string{"standards have", "standards", "prices", "numbers", "waits have", "waiting times have"}},
	{need: []string{"fall"}, category: UrgentFall, re: regexp.MustCompile(`\b(had|have had|suffered) a (bad |nasty |serious )?fall\b|\bfall risk\b|\bfall (in|on|from|out of) (the|my|a|his|her) (bathroom|toilet|shower|bed|stairs|floor|hallway|corridor|ward|room|car park|parking)`)},
	{need: []string{"slipped", "tripped"}, category: UrgentFall, re: regexp.MustCompile(`\b(slipped|tripped) (and|over|on|in)\b`),
		notAfter: []string{"my mind"}},
	{need: []string{"me ca", "se cay", "una ca"}, category: UrgentFall, re: regexp.MustCompile(`\b(me ca(í|i)(\s|$|[.,!;])|se cay(ó|o)|una ca(í|i)da)`)},
}

// UrgentCategories returns the urgent categories a comment hits, in list
// order, each once.
func UrgentCategories(text string) []string {
	if text == "" {
		return nil
	}
	return urgentCategories(normalise(text), true)
}

func urgentCategories(t string, prefilter bool) []string {
	var out []string
	for _, p := range urgentPatterns {
		if contains(out, p.category) || (prefilter && !p.mayHit(t)) || !p.hits(t) {
			continue
		}
		out = append(out, p.category)
	}
	return out
}

// IsUrgent reports whether a comment hits any urgent pattern.
func IsUrgent(text string) bool { return len(UrgentCategories(text)) > 0 }

func (p urgentPattern) mayHit(t string) bool {
	for _, n := range p.need {
		if strings.Contains(t, n) {
			return true
		}
	}
	return false
}

func (p urgentPattern) hits(t string) bool {
	for _, m := range p.re.FindAllStringIndex(t, -1) {
		after := strings.TrimLeft(t[m[1]:], " ")
		before := strings.TrimRight(t[:m[0]], " ")
		miss := false
		for _, w := range p.notAfter {
			if strings.HasPrefix(after, w) {
				miss = true
			}
		}
		for _, w := range p.notBefore {
			if strings.HasSuffix(before, w) {
				miss = true
			}
		}
		if !miss {
			return true
		}
	}
	return false
}

// normalise lower-cases, straightens apostrophes and folds runs of spaces
// and line breaks, so that patterns need only one spelling.
func normalise(s string) string {
	s = strings.ToLower(s)
	// One pass with one allocation: this runs on every comment of every
	// submission.
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == '’' || r == '‘' || r == '`':
			r = '\''
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
