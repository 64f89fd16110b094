// Package redact masks personal details in free-text comments before they
// leave CareVoice in an export: phone numbers, email addresses, dates and
// person names become [phone], [email], [date] and [name].
//
// Patterns find phones, emails, dates and titled names ("Dr Smith", "nurse
// Jane"); prose's named-entity recogniser and a list of common given names
// find the remaining names. Redaction errs towards masking: a site called
// "Main Clinic" is kept, but an unusual capitalised word may be taken for a
// name. It cannot promise to catch everything: a lower-case name ("ask for
// emily") or a name that is also a word ("Hope") can slip through, so a
// redacted export is safer, not anonymous.
//
// Cost, measured by BenchmarkRedact on a 2-core AMD EPYC build server over
// five typical comments: about 1.3 ms and 260 kB of garbage per comment with
// prose's recogniser, which is 95% of the time; about 30 µs with patterns and
// the names list only (NewWithoutNER). So a redacted export of 100,000
// comments spends about two minutes of one core in redaction; run cells
// through several goroutines to use more (the Redactor is shared safely). A
// comment without capital letters skips the recogniser, since it finds no
// names there. The model takes about 0.4 s to load, once per process.
package redact

import (
	_ "embed"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/jdkato/prose/v2"
)

// Masks that replace what was found.
const (
	MaskPhone = "[phone]"
	MaskEmail = "[email]"
	MaskDate  = "[date]"
	MaskName  = "[name]"
)

// Counts says how many things of each kind were masked, for the audit record
// of an export.
type Counts struct {
	Phone int `json:"phone"`
	Email int `json:"email"`
	Date  int `json:"date"`
	Name  int `json:"name"`
}

// Add adds o to c, to total the masks over all the cells of an export.
func (c *Counts) Add(o Counts) {
	c.Phone += o.Phone
	c.Email += o.Email
	c.Date += o.Date
	c.Name += o.Name
}

// Total is the number of masks of all kinds.
func (c Counts) Total() int { return c.Phone + c.Email + c.Date + c.Name }

// Map returns the counts keyed by kind ("phone", "email", "date", "name").
func (c Counts) Map() map[string]int {
	return map[string]int{"phone": c.Phone, "email": c.Email, "date": c.Date, "name": c.Name}
}

// Redactor masks personal details. It is safe for concurrent use: prose only
// reads its model while tagging (every document gets its own tokens), which
// the race-detector test in this package holds it to.
type Redactor struct {
	model *prose.Model // nil: patterns and the names list only
}

// New loads prose's model and returns a Redactor that uses it. Loading takes
// about 0.4 s; build one Redactor and share it, or use Default.
func New() *Redactor {
	return &Redactor{model: prose.ModelFromData("carevoice")}
}

// NewWithoutNER returns a Redactor that finds names only by title and by the
// list of common given names: hundreds of times faster, for callers that
// trade recall for speed.
func NewWithoutNER() *Redactor { return &Redactor{} }

var defaultRedactor = sync.OnceValue(New)

// Default returns a shared Redactor, loading the model on first use.
func Default() *Redactor { return defaultRedactor() }

// Redact masks text with the Default redactor.
func Redact(text string) (string, Counts) { return Default().Redact(text) }

// Redact returns text with personal details masked and how many of each kind
// were masked. Kinds are masked in an order that keeps each mask from
// feeding the next pattern: emails first (they contain digits and dots), then
// phones, dates, titled names, and finally names found by the recogniser in
// what is left.
func (r *Redactor) Redact(text string) (string, Counts) {
	var c Counts
	if strings.TrimSpace(text) == "" {
		return text, c
	}
	// Cheap pre-checks skip the patterns that cannot match; most comments
	// have no "@" and few digits.
	if strings.IndexByte(text, '@') >= 0 {
		text, c.Email = replaceMatches(text, emailRE, nil, MaskEmail)
	}
	if digitCount(text) >= 8 {
		for _, p := range phonePatterns {
			var n int
			text, n = replaceMatches(text, p.re, p.valid, MaskPhone)
			c.Phone += n
		}
	}
	if strings.IndexAny(text, "0123456789") >= 0 {
		for _, p := range datePatterns {
			var n int
			text, n = replaceMatches(text, p.re, p.valid, MaskDate)
			c.Date += n
		}
	}
	var n int
	text, n = maskTitledNames(text)
	c.Name += n
	if r.model != nil && hasCapital(text) {
		text, n = r.maskEntities(text)
		c.Name += n
	}
	text, n = maskGivenNames(text)
	c.Name += n
	return text, c
}

// replaceMatches replaces every match of re that valid accepts (all when
// valid is nil) by mask, and counts them. Matches whose neighbours would make
// them part of a longer number or word are skipped, which Go's regexp cannot
// express for patterns that start with "(" or "+".
func replaceMatches(text string, re *regexp.Regexp, valid func(string) bool, mask string) (string, int) {
	locs := re.FindAllStringIndex(text, -1)
	if locs == nil {
		return text, 0
	}
	var b strings.Builder
	last, n := 0, 0
	for _, l := range locs {
		m := text[l[0]:l[1]]
		if !isolated(text, l[0], l[1]) || (valid != nil && !valid(m)) {
			continue
		}
		b.WriteString(text[last:l[0]])
		b.WriteString(mask)
		last = l[1]
		n++
	}
	if n == 0 {
		return text, 0
	}
	b.WriteString(text[last:])
	return b.String(), n
}

func isolated(text string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("+/_@", r) {
			return false
		}
		// "-" or "." directly before a digit means the match is the tail of
		// a longer number, as in an order reference "12-555-123-4567".
		if (r == '-' || r == '.') && start > 1 {
			p, _ := utf8.DecodeLastRuneInString(text[:start-1])
			if unicode.IsDigit(p) {
				return false
			}
		}
	}
	if end < len(text) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_@", r) {
			return false
		}
		if (r == '-' || r == '/') && end+1 < len(text) {
			n, _ := utf8.DecodeRuneInString(text[end+1:])
			if unicode.IsDigit(n) {
				return false
			}
		}
	}
	return true
}

func hasCapital(s string) bool {
	return strings.IndexFunc(s, unicode.IsUpper) >= 0
}

var emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}`)

type pattern struct {
	re    *regexp.Regexp
	valid func(string) bool
}

func digitCount(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

var phonePatterns = []pattern{
	// UK: +44 7700 900123, +44 (0)20 7946 0958, 07700 900123, 020 7946 0958,
	// (0161) 496 0000. The national number after +44 or 0 has 9 or 10 digits.
	{regexp.MustCompile(`(?:\+44\s?(?:\(0\)\s?)?\d{2,4}|\(0\d{2,4}\)|0\d{2,4})[\s-]?\d{3,4}[\s-]?\d{0,4}`), func(m string) bool {
		d := digitCount(m)
		if strings.HasPrefix(m, "+44") {
			if strings.Contains(m, "(0)") {
				d--
			}
			return d-2 == 9 || d-2 == 10
		}
		return d == 10 || d == 11
	}},
	// North American: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
	// Ten bare digits count too: in a patient comment they are a phone far
	// more often than anything else.
	{regexp.MustCompile(`(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}`), func(m string) bool {
		d := digitCount(m)
		return d == 10 || (d == 11 && strings.TrimLeft(m, "+")[0] == '1')
	}},
	// Other international numbers, such as Spanish ones: +34 612 345 678.
	{regexp.MustCompile(`\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}`), func(m string) bool {
		d := digitCount(m)
		return d >= 8 && d <= 15
	}},
}

const monthRE = `(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|May|[Jj]une?|[Jj]uly?|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)`

// The month pattern leaves "may" and "march" in lower case alone, since in
// comments they are far more often verbs than months.

var datePatterns = []pattern{
	// 2024-03-12, 2024/03/12
	{regexp.MustCompile(`\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b`), func(m string) bool {
		p := splitNumbers(m)
		return p[1] >= 1 && p[1] <= 12 && p[2] >= 1 && p[2] <= 31
	}},
	// 12/03/2024, 3/12/24, 12.03.2024, 12-03-2024: day and month in either order.
	{regexp.MustCompile(`\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b`), func(m string) bool {
		p := splitNumbers(m)
		a, b := p[0], p[1]
		return a >= 1 && b >= 1 && ((a <= 31 && b <= 12) || (a <= 12 && b <= 31))
	}},
	// 3 March 2024, 3rd of March, 12th Mar, 2024
	{regexp.MustCompile(`\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+` + monthRE + `\b\.?(?:,?\s+\d{4}\b)?`), validDay},
	// March 3rd, Mar. 3, 2024, June 12
	{regexp.MustCompile(`\b` + monthRE + `\b\.?\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4}\b)?`), validDay},
	// March 2024
	{regexp.MustCompile(`\b` + monthRE + `\b\.?,?\s+(?:19|20)\d{2}\b`), nil},
}

func splitNumbers(s string) []int {
	var out []int
	cur, in := 0, false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			cur = cur*10 + int(r-'0')
			in = true
			continue
		}
		if in {
			out = append(out, cur)
		}
		cur, in = 0, false
	}
	if in {
		out = append(out, cur)
	}
	return append(out, 0, 0, 0) // callers index up to 2
}

// validDay accepts a textual date whose first number is a day of the month,
// so "12 Mar" is masked but "45 Mar" is not taken for a date.
func validDay(m string) bool {
	d := splitNumbers(m)[0]
	return d >= 1 && d <= 31
}

const nameWord = `\p{Lu}[\p{L}'’-]*`

// titledNameRE finds a title followed by one or two capitalised words. The
// title may be lower case ("nurse Jane"), the name may not: "Dr. visit at
// 10:30" is an appointment, not a person.
var titledNameRE = regexp.MustCompile(`\b((?i:dr|doctor|mr|mrs|ms|miss|mx|prof|professor|nurse|sister|matron|midwife|sir|dame|rev|father|consultant|surgeon|receptionist|paramedic|physio|therapist|pharmacist|dentist|dra|doctora|enfermera|enfermero|sr|sra|srta|señor|señora|señorita|doña))(\.?\s+)(` + nameWord + `(?:\s+` + nameWord + `)?)`)

func maskTitledNames(text string) (string, int) {
	n := 0
	out := titledNameRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := titledNameRE.FindStringSubmatch(m)
		words := strings.Fields(sub[3])
		if notName[words[0]] {
			return m
		}
		rest := ""
		if len(words) == 2 && notName[words[1]] {
			rest = m[len(sub[1])+len(sub[2])+len(words[0]):]
		}
		n++
		return sub[1] + sub[2] + MaskName + rest
	})
	return out, n
}

// notName holds capitalised words that follow titles or start sentences but
// are not names; institution words keep site names such as "Main Clinic".
var notName = setOf(`
I A An The And But Or So If In On At To Of For From With By My Our Your Their His Her
This That These Those It We You They He She Me Us Them There Here Then When While
Thank Thanks Thankyou Great Good Very Really Excellent Lovely Nice Kind Poor Bad Awful
Hi Hello Dear Please Sorry Yes No Not Nothing Everything Everyone Someone Nobody All
Staff Team Doctor Doctors Dr Nurse Nurses Mr Mrs Ms Miss Sister Matron Receptionist Reception
Practitioner Visit Appointment Appointments Office Surgery Clinic Clinics Hospital Hospitals
Centre Center Practice Unit Ward Wards Department Dept Trust Pharmacy Service Services Team
Emergency Urgent Care Health Healthcare Medical Dental Radiology Cardiology Oncology
Maternity Pediatrics Paediatrics Outpatients Inpatients Physio Physiotherapy Xray X-ray
NHS GP GPs A&E ER ICU NICU MRI CT ECG OK Ok
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Yesterday Tomorrow
January February March April May June July August September October November December
English Spanish British American Covid COVID Christmas Easter
Main North South East West Central Street Road Lane
`)

var institution = setOf(`Clinic Clinics Hospital Hospitals Centre Center Surgery Practice Unit
Ward Department Trust Pharmacy NHS Service Services Team Medical Health Healthcare Group`)

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

var nameWordRE = regexp.MustCompile(`^` + nameWord + `$`)

// maskEntities masks the PERSON entities prose finds. prose reports entity
// text but not offsets, so each entity is searched for again in the text;
// all its occurrences are masked, since a name mentioned twice is the same
// person.
func (r *Redactor) maskEntities(text string) (string, int) {
	// Segmentation is off: it roughly doubles the cost and entity
	// recognition does not use it.
	doc, err := prose.NewDocument(text, prose.WithSegmentation(false), prose.UsingModel(r.model))
	if err != nil {
		return text, 0
	}
	var names [][]string
	for _, e := range doc.Entities() {
		if e.Label != "PERSON" {
			continue
		}
		if words := cleanEntity(strings.Fields(e.Text)); words != nil {
			names = append(names, words)
		}
	}
	// Longest first, so "John Smith" is masked whole before "John" alone.
	slices.SortStableFunc(names, func(a, b []string) int { return len(b) - len(a) })
	total := 0
	for _, words := range names {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = strings.NewReplacer(`'`, `['’]`, `’`, `['’]`).Replace(regexp.QuoteMeta(w))
		}
		re, err := regexp.Compile(`\b` + strings.Join(quoted, `\s+`) + `\b`)
		if err != nil {
			continue
		}
		var n int
		text, n = replaceMatches(text, re, nil, MaskName)
		total += n
	}
	return text, total
}

// cleanEntity trims words that are not names from the edges of an entity
// ("Thank Maria" becomes "Maria") and rejects entities that are institutions
// ("Main Clinic") or contain anything but capitalised words.
func cleanEntity(words []string) []string {
	for _, w := range words {
		if institution[w] {
			return nil
		}
	}
	for len(words) > 0 && (notName[words[0]] || !nameWordRE.MatchString(words[0])) {
		words = words[1:]
	}
	for len(words) > 0 && (notName[words[len(words)-1]] || !nameWordRE.MatchString(words[len(words)-1])) {
		words = words[:len(words)-1]
	}
	for _, w := range words {
		if !nameWordRE.MatchString(w) || notName[w] {
			return nil
		}
	}
	if len(words) == 0 {
		return nil
	}
	return words
}

var capitalisedRE = regexp.MustCompile(`\b` + nameWord + `(?:\s+` + nameWord + `)?`)

// maskGivenNames masks capitalised common given names that prose missed, as
// it often does with a lone first name ("Thank you to Maria"), together with
// a capitalised word right after it, taken for a surname.
func maskGivenNames(text string) (string, int) {
	n := 0
	out := capitalisedRE.ReplaceAllStringFunc(text, func(m string) string {
		words := strings.Fields(m)
		if !givenNames()[words[0]] {
			if len(words) == 2 && givenNames()[words[1]] {
				n++
				return m[:strings.LastIndex(m, words[1])] + MaskName
			}
			return m
		}
		n++
		if len(words) == 2 && notName[words[1]] {
			return MaskName + m[len(words[0]):]
		}
		return MaskName
	})
	return out, n
}

//go:embed given_names.txt
var givenNamesText string

var givenNames = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(givenNamesText) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
})
