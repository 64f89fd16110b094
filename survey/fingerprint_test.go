package survey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"testing"
)

// fingerprintJSON is Fingerprint as it was first written, with
// encoding/json: the digests already stored were made this way.
func fingerprintJSON(s *Submission, answers []Parsed) string {
	type canon struct {
		Survey, Site, Department, Provider, Channel, Token, Lang string
		Answers                                                  []any
		Contact                                                  *Contact
	}
	c := canon{s.Survey, s.Site, s.Department, s.Provider, s.Channel, s.Token, s.Lang, nil, nil}
	for _, a := range answers {
		c.Answers = append(c.Answers, []any{a.Question, a.Value()})
	}
	if !s.Contact.Empty() {
		c.Contact = s.Contact
	}
	b, _ := json.Marshal(c)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// awkward strings: everything encoding/json escapes, multi-byte and broken
// UTF-8.
var awkward = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "señora ñ 日本語 🙂", "line\u2028sep\u2029para", "bad \xff\xfe utf8 \xe2\x82", "\xc3"}

func TestFingerprintMatchesJSON(t *testing.T) {
	num := func(n int) *int { return &n }
	str := func(s string) *string { return &s }
	for i, s := range awkward {
		sub := &Submission{Survey: s, Site: "main", Department: s, Provider: "dr-" + s, Channel: "link", Token: s, Lang: "es"}
		for _, tc := range []struct {
			answers []Parsed
			contact *Contact
		}{
			{nil, nil},
			{[]Parsed{}, &Contact{}},
			{[]Parsed{{Question: "q1", Type: TypeRating5, Num: num(4)}, {Question: s, Type: TypeText, Text: str(s)}}, nil},
			{[]Parsed{{Question: "q1", Type: TypeYesNo, Num: num(1)}, {Question: "q2", Type: TypeYesNo, Num: num(0)},
				{Question: "q3", Type: TypeNPS, Num: num(-7)}}, &Contact{OKToContact: true}},
			{[]Parsed{{Question: "q4", Type: TypeChoice, Choices: []string{s}}, {Question: "q5", Type: TypeMulti, Choices: []string{s, "b"}},
				{Question: "q6", Type: TypeMulti, Choices: []string{}}, {Question: "q7", Type: TypeMulti}},
				&Contact{Name: s, Phone: "+1 555 0100", Email: s + "@example.org"}},
			{nil, &Contact{OKToContact: true, Email: s}},
		} {
			sub.Contact = tc.contact
			if got, want := Fingerprint(sub, tc.answers), fingerprintJSON(sub, tc.answers); got != want {
				t.Errorf("string %d, answers %+v, contact %+v: fingerprint differs from encoding/json's", i, tc.answers, tc.contact)
			}
		}
	}
}

func FuzzFingerprintMatchesJSON(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, 3, true)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int, yes bool) {
		yn := 0
		if yes {
			yn = 1
		}
		sub := &Submission{Survey: a, Site: b, Department: a + b, Channel: b, Lang: a,
			Contact: &Contact{OKToContact: yes, Name: a, Email: b}}
		answers := []Parsed{{Question: a, Type: TypeRating5, Num: &n}, {Question: b, Type: TypeText, Text: &a},
			{Question: "c", Type: TypeChoice, Choices: []string{b}}, {Question: "m", Type: TypeMulti, Choices: []string{a, b}},
			{Question: "y", Type: TypeYesNo, Num: &yn}}
		if got, want := Fingerprint(sub, answers), fingerprintJSON(sub, answers); got != want {
			t.Errorf("fingerprint of %q, %q differs from encoding/json's", a, b)
		}
	})
}

func TestValidIDMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	for _, id := range []string{"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01", "0B7F6A52-6A0E-4A8E-9D55-1F0F3C0D0A01",
		"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a0", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a012", "0b7f6a526a0e-4a8e-9d55-1f0f3c0d0a01-",
		"0b7f6a52_6a0e-4a8e-9d55-1f0f3c0d0a01", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a0g", "g0000000-0000-0000-0000-000000000000",
		"", "------------------------------------", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a0\n", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0aé",
	} {
		if ValidID(id) != re.MatchString(id) {
			t.Errorf("ValidID(%q) = %v, the pattern says %v", id, ValidID(id), re.MatchString(id))
		}
	}
}
