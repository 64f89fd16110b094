package survey

import (
	"encoding/json"
	"strings"
	"testing"
)

func builtin(t *testing.T, slug string) *Survey {
	t.Helper()
	for _, s := range Builtin() {
		if s.Slug == slug {
			return &s
		}
	}
	t.Fatalf("no built-in survey %s", slug)
	return nil
}

func TestBuiltinSurveysAreValid(t *testing.T) {
	for _, s := range Builtin() {
		if f := s.Check(); len(f) > 0 {
			t.Errorf("%s: %v", s.Slug, f)
		}
		for _, q := range s.Questions {
			for _, lang := range []string{"en", "es"} {
				if q.Text[lang] == "" {
					t.Errorf("%s.%s has no %s text", s.Slug, q.ID, lang)
				}
			}
			for _, o := range q.Options {
				if o.Text["en"] == "" || o.Text["es"] == "" {
					t.Errorf("%s.%s option %s lacks a language", s.Slug, q.ID, o.ID)
				}
			}
		}
	}
	fft := builtin(t, "fft")
	if fft.Questions[0].Type != TypeRating5 || fft.Questions[1].Intent != IntentPraise || fft.Questions[2].Intent != IntentImprove {
		t.Errorf("fft is not the FFT question plus praise and improve: %+v", fft.Questions)
	}
}

func TestValidateEnvelope(t *testing.T) {
	ok := func() Submission {
		return Submission{ID: "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01", Survey: "fft", Site: "main", Channel: ChannelLink}
	}
	for _, c := range []struct {
		name  string
		edit  func(*Submission)
		field string // "" = valid
		want  string
	}{
		{"valid", func(*Submission) {}, "", ""},
		{"id not a uuid", func(s *Submission) { s.ID = "42" }, "id", "must be a UUID made by the client"},
		{"id empty", func(s *Submission) { s.ID = "" }, "id", "must be a UUID made by the client"},
		{"survey missing", func(s *Submission) { s.Survey = "" }, "survey", "is required"},
		{"site missing", func(s *Submission) { s.Site = "" }, "site", "is required"},
		{"site not a slug", func(s *Submission) { s.Site = "North Clinic" }, "site", "is not a valid identifier"},
		{"department not a slug", func(s *Submission) { s.Department = "../x" }, "department", "is not a valid identifier"},
		{"channel missing", func(s *Submission) { s.Channel = "" }, "channel", "is required"},
		{"channel unknown", func(s *Submission) { s.Channel = "email" }, "channel", "must be link, kiosk, invite or suggestion"},
		{"invite without token", func(s *Submission) { s.Channel = ChannelInvite }, "token", "is required for an invitation"},
		{"lang bad", func(s *Submission) { s.Lang = "english please" }, "lang", "must be a language code such as en or es"},
		{"contact bad email", func(s *Submission) { s.Contact = &Contact{OKToContact: true, Email: "ann at example"} }, "contact.email", "is not an email address"},
		{"contact bad phone", func(s *Submission) { s.Contact = &Contact{OKToContact: true, Phone: "call me"} }, "contact.phone", "is not a phone number"},
		{"contact nothing to reach", func(s *Submission) { s.Contact = &Contact{OKToContact: true, Name: "Ann"} }, "contact", "give a phone number or an email address so we can contact you"},
		{"contact name too long", func(s *Submission) {
			s.Contact = &Contact{OKToContact: true, Phone: "555 0100", Name: strings.Repeat("a", 201)}
		}, "contact.name", "is too long (200 characters at most)"},
		{"contact ok", func(s *Submission) { s.Contact = &Contact{OKToContact: true, Phone: "+1 (555) 010-0199"} }, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := ok()
			c.edit(&s)
			f := s.ValidateEnvelope()
			if c.field == "" {
				if len(f) != 0 {
					t.Errorf("got %v, want valid", f)
				}
				return
			}
			if f[c.field] != c.want {
				t.Errorf("fields[%s] = %q, want %q (all %v)", c.field, f[c.field], c.want, f)
			}
		})
	}
	s := ok()
	s.ValidateEnvelope()
	if s.Lang != "en" {
		t.Errorf("default lang %q, want en", s.Lang)
	}
}

func answers(pairs ...string) []Answer {
	var out []Answer
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Answer{Question: pairs[i], Value: json.RawMessage(pairs[i+1])})
	}
	return out
}

func TestValidateAnswers(t *testing.T) {
	visit := &Survey{Slug: "visit", Version: 1, Title: Text{"en": "Visit"}, Questions: []Question{
		{ID: "nps", Type: TypeNPS, Required: true, Text: Text{"en": "Recommend?"}},
		{ID: "why", Type: TypeMulti, Text: Text{"en": "Why?"}, Options: []Option{{ID: "pain"}, {ID: "checkup"}}},
		{ID: "ok", Type: TypeYesNo, Text: Text{"en": "On time?"}},
		{ID: "dept", Type: TypeChoice, Text: Text{"en": "Where?"}, Options: []Option{{ID: "er"}, {ID: "gp"}}},
		{ID: "say", Type: TypeText, Intent: IntentOpen, Text: Text{"en": "Anything else?"}},
	}}
	for _, c := range []struct {
		name    string
		answers []Answer
		fields  map[string]string
	}{
		{"all valid", answers("nps", "10", "why", `["pain","checkup"]`, "ok", "true", "dept", `"gp"`, "say", `"Great"`), nil},
		{"form strings", answers("nps", `"7"`, "ok", `"yes"`), nil},
		{"nps 11", answers("nps", "11"), map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{"nps 7.5", answers("nps", "7.5"), map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{"nps abc", answers("nps", `"abc"`), map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{"nps object", answers("nps", `{"v":1}`), map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{"multi unknown option", answers("nps", "1", "why", `["pain","boredom"]`), map[string]string{"answers[1].value": "must be a list of the question's options"}},
		{"multi repeated option", answers("nps", "1", "why", `["pain","pain"]`), map[string]string{"answers[1].value": "must be a list of the question's options"}},
		{"choice unknown", answers("nps", "1", "dept", `"icu"`), map[string]string{"answers[1].value": "must be one of the question's options"}},
		{"yesno maybe", answers("nps", "1", "ok", `"maybe"`), map[string]string{"answers[1].value": "must be true or false"}},
		{"text number", answers("nps", "1", "say", "3"), map[string]string{"answers[1].value": "must be text"}},
		{"text NUL", answers("nps", "1", "say", `"a\u0000b"`), map[string]string{"answers[1].value": "contains a NUL character"}},
		{"text invalid UTF-8", answers("nps", "1", "say", "\"caf\xe9\""), map[string]string{"answers[1].value": "is not valid UTF-8"}},
		{"text 5000 characters", answers("nps", "1", "say", `"`+strings.Repeat("ñ", 5000)+`"`), nil},
		{"text 5001 characters", answers("nps", "1", "say", `"`+strings.Repeat("ñ", 5001)+`"`), map[string]string{"answers[1].value": "is too long (5000 characters at most)"}},
		{"unknown question", answers("nps", "1", "zzz", "1"), map[string]string{"answers[1].question": "unknown question"}},
		{"answered twice", answers("nps", "1", "nps", "2"), map[string]string{"answers[1].question": "answered twice"}},
		{"required missing", answers("say", `"hi"`), map[string]string{"answers.nps": "is required"}},
		{"required null", answers("nps", "null"), map[string]string{"answers[0].value": "is required"}},
		{"required bad and missing reported once", answers("nps", "99"), map[string]string{"answers[0].value": "must be a whole number from 0 to 10"}},
		{"several at once", answers("nps", "12", "why", `"pain"`, "ok", "2"), map[string]string{
			"answers[0].value": "must be a whole number from 0 to 10", "answers[1].value": "must be a list of the question's options",
			"answers[2].value": "must be true or false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, f := ValidateAnswers(visit, c.answers)
			if len(f) != len(c.fields) {
				t.Fatalf("got fields %v, want %v", f, c.fields)
			}
			for k, v := range c.fields {
				if f[k] != v {
					t.Errorf("fields[%s] = %q, want %q", k, f[k], v)
				}
			}
			if len(f) == 0 {
				for i := 1; i < len(got); i++ {
					if got[i].Position <= got[i-1].Position {
						t.Errorf("answers not in question order: %+v", got)
					}
				}
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	def := builtin(t, "fft")
	sub := func(v string, contact *Contact) (*Submission, []Parsed) {
		s := &Submission{ID: "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01", Survey: "fft", Site: "main", Channel: ChannelLink, Lang: "en",
			Answers: answers("q1", v, "q2", `"Kind"`), Contact: contact}
		p, f := ValidateAnswers(def, s.Answers)
		if len(f) > 0 {
			t.Fatal(f)
		}
		return s, p
	}
	a, pa := sub("2", nil)
	b, pb := sub(`"2"`, &Contact{}) // a form's string and an empty contact say the same
	c, pc := sub("3", nil)
	d, pd := sub("2", &Contact{OKToContact: true, Phone: "555 0100"})
	if Fingerprint(a, pa) != Fingerprint(b, pb) {
		t.Error("the same answers in another spelling fingerprint differently")
	}
	if Fingerprint(a, pa) == Fingerprint(c, pc) || Fingerprint(a, pa) == Fingerprint(d, pd) {
		t.Error("different answers or contact fingerprint the same")
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		s     Survey
		field string
	}{
		{"bad slug", Survey{Slug: "Bad Slug", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeNPS, Text: Text{"en": "x"}}}}, "slug"},
		{"no title", Survey{Slug: "s", Questions: []Question{{ID: "a", Type: TypeNPS, Text: Text{"en": "x"}}}}, "title"},
		{"no questions", Survey{Slug: "s", Title: Text{"en": "x"}}, "questions"},
		{"duplicate id", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeNPS, Text: Text{"en": "x"}}, {ID: "a", Type: TypeNPS, Text: Text{"en": "y"}}}}, "questions[1].id"},
		{"unknown type", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: "stars", Text: Text{"en": "x"}}}}, "questions[0].type"},
		{"one option", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeChoice, Text: Text{"en": "x"}, Options: []Option{{ID: "o"}}}}}, "questions[0].options"},
		{"option without English", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeMulti, Text: Text{"en": "x"},
			Options: []Option{{ID: "o", Text: Text{"en": "O"}}, {ID: "p", Text: Text{"es": "P"}}}}}}, "questions[0].options[1].text"},
		{"bad intent", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeText, Intent: "rant", Text: Text{"en": "x"}}}}, "questions[0].intent"},
		{"no English title", Survey{Slug: "s", Title: Text{"es": "x"}, Questions: []Question{{ID: "a", Type: TypeNPS, Text: Text{"en": "x"}}}}, "title"},
		{"no English text", Survey{Slug: "s", Title: Text{"en": "x"}, Questions: []Question{{ID: "a", Type: TypeNPS, Text: Text{"es": "x"}}}}, "questions[0].text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if f := c.s.Check(); f[c.field] == "" {
				t.Errorf("got %v, want a message for %s", f, c.field)
			}
		})
	}
}
