package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Channels a response can arrive through.
const (
	ChannelLink       = "link"
	ChannelKiosk      = "kiosk"
	ChannelInvite     = "invite"
	ChannelSuggestion = "suggestion"
)

// Submission is the body of POST /api/v1/responses (SPEC "JSON API"); the
// HTML forms build the same value so both go through one validator.
type Submission struct {
	ID         string   `json:"id"`
	Survey     string   `json:"survey"`
	Site       string   `json:"site"`
	Department string   `json:"department,omitempty"`
	Provider   string   `json:"provider,omitempty"`
	Channel    string   `json:"channel"`
	Token      string   `json:"token,omitempty"`
	Lang       string   `json:"lang,omitempty"`
	Answers    []Answer `json:"answers"`
	Contact    *Contact `json:"contact,omitempty"`
}

// Answer is one submitted answer; Value is kept raw until its question's
// type is known.
type Answer struct {
	Question string          `json:"question"`
	Value    json.RawMessage `json:"value"`
}

// Contact is a patient's request to be contacted. It is stored encrypted and
// apart from the answers.
type Contact struct {
	OKToContact bool   `json:"ok_to_contact"`
	Name        string `json:"name,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Empty reports whether the contact block carries nothing worth storing.
func (c *Contact) Empty() bool {
	return c == nil || (!c.OKToContact && c.Name == "" && c.Phone == "" && c.Email == "")
}

// Parsed is one validated answer in its typed form.
type Parsed struct {
	Question string
	Position int // index of the question in the survey
	Type     string
	Intent   string // text questions only
	Num      *int
	Text     *string
	Choices  []string
}

// Value returns the answer in the JSON shape patients submit.
func (p Parsed) Value() any {
	switch {
	case p.Num != nil:
		if p.Type == TypeYesNo {
			return *p.Num == 1
		}
		return *p.Num
	case p.Text != nil:
		return *p.Text
	case p.Type == TypeChoice && len(p.Choices) == 1:
		return p.Choices[0]
	default:
		return p.Choices
	}
}

// ValidID reports whether id is a UUID (8-4-4-4-12 hex digits, either
// case), the form of a client-made response id.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Languages the built-in surveys are written in; a response may name
// another language code, and its text falls back to English.
var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

// ValidateEnvelope checks the fields of a submission that do not need the
// survey definition. It returns a field map, empty when valid.
func (s *Submission) ValidateEnvelope() map[string]string {
	f := map[string]string{}
	if !ValidID(s.ID) {
		f["id"] = "must be a UUID made by the client"
	}
	if s.Survey == "" {
		f["survey"] = "is required"
	}
	if s.Site == "" {
		f["site"] = "is required"
	}
	switch s.Channel {
	case ChannelLink, ChannelKiosk, ChannelSuggestion:
	case ChannelInvite:
		if s.Token == "" {
			f["token"] = "is required for an invitation"
		}
	case "":
		f["channel"] = "is required"
	default:
		f["channel"] = "must be link, kiosk, invite or suggestion"
	}
	if s.Lang == "" {
		s.Lang = "en"
	} else if !langRE.MatchString(s.Lang) {
		f["lang"] = "must be a language code such as en or es"
	}
	for k, v := range map[string]string{"survey": s.Survey, "site": s.Site, "department": s.Department, "provider": s.Provider} {
		if v != "" && !ValidSlug(v) {
			f[k] = "is not a valid identifier"
		}
	}
	if c := s.Contact; c != nil {
		for k, v := range map[string]string{"name": c.Name, "phone": c.Phone, "email": c.Email} {
			if !utf8.ValidString(v) {
				f["contact."+k] = "is not valid UTF-8"
			} else if utf8.RuneCountInString(v) > 200 {
				f["contact."+k] = "is too long (200 characters at most)"
			}
		}
		if c.Email != "" && f["contact.email"] == "" {
			if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
				f["contact.email"] = "is not an email address"
			}
		}
		if c.Phone != "" && f["contact.phone"] == "" && !phoneRE.MatchString(c.Phone) {
			f["contact.phone"] = "is not a phone number"
		}
		if c.OKToContact && c.Phone == "" && c.Email == "" {
			f["contact"] = "give a phone number or an email address so we can contact you"
		}
	}
	return f
}

var phoneRE = regexp.MustCompile(`^\+?[0-9 ()./-]{6,25}$`)

// ValidateAnswers checks the answers against the survey definition and
// returns them typed, in the survey's question order.
func ValidateAnswers(def *Survey, answers []Answer) ([]Parsed, map[string]string) {
	f := map[string]string{}
	byQ := map[string]Parsed{}
	for i, a := range answers {
		p := fmt.Sprintf("answers[%d]", i)
		q := def.Question(a.Question)
		if q == nil {
			f[p+".question"] = "unknown question"
			continue
		}
		if _, dup := byQ[q.ID]; dup {
			f[p+".question"] = "answered twice"
			continue
		}
		v := bytes.TrimSpace(a.Value)
		if len(v) == 0 || bytes.Equal(v, []byte("null")) {
			continue // unanswered; required-ness checked below
		}
		parsed, reason := parseValue(q, v)
		if reason != "" {
			f[p+".value"] = reason
			continue
		}
		if parsed.Text != nil && strings.TrimSpace(*parsed.Text) == "" {
			continue
		}
		byQ[q.ID] = parsed
	}
	out := make([]Parsed, 0, len(byQ))
	for i, q := range def.Questions {
		p, ok := byQ[q.ID]
		if !ok {
			if q.Required {
				if _, bad := findField(f, q.ID, answers); !bad {
					f[requiredPath(q.ID, answers)] = "is required"
				}
			}
			continue
		}
		p.Position = i
		out = append(out, p)
	}
	return out, f
}

func findField(f map[string]string, qid string, answers []Answer) (string, bool) {
	for i, a := range answers {
		if a.Question == qid {
			k := fmt.Sprintf("answers[%d].value", i)
			_, ok := f[k]
			return k, ok
		}
	}
	return "", false
}

func requiredPath(qid string, answers []Answer) string {
	for i, a := range answers {
		if a.Question == qid {
			return fmt.Sprintf("answers[%d].value", i)
		}
	}
	return "answers." + qid
}

func parseValue(q *Question, v json.RawMessage) (Parsed, string) {
	p := Parsed{Question: q.ID, Type: q.Type, Intent: q.Intent}
	switch q.Type {
	case TypeRating5, TypeNPS:
		n, ok := parseInt(v)
		max := 5
		if q.Type == TypeNPS {
			max = 10
		}
		if !ok || n < 0 || n > max {
			return p, fmt.Sprintf("must be a whole number from 0 to %d", max)
		}
		p.Num = &n
	case TypeYesNo:
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			var s string
			if json.Unmarshal(v, &s) != nil || (s != "yes" && s != "no") {
				return p, "must be true or false"
			}
			b = s == "yes"
		}
		n := 0
		if b {
			n = 1
		}
		p.Num = &n
	case TypeChoice:
		var s string
		if err := json.Unmarshal(v, &s); err != nil || !hasOption(q, s) {
			return p, "must be one of the question's options"
		}
		p.Choices = []string{s}
	case TypeMulti:
		var ss []string
		if err := json.Unmarshal(v, &ss); err != nil {
			return p, "must be a list of the question's options"
		}
		seen := map[string]bool{}
		for _, s := range ss {
			if !hasOption(q, s) || seen[s] {
				return p, "must be a list of the question's options"
			}
			seen[s] = true
		}
		sort.Strings(ss)
		p.Choices = ss
	case TypeText:
		if !utf8.Valid(v) {
			return p, "is not valid UTF-8"
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return p, "must be text"
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) && !utf8.ValidString(string(v)) {
			return p, "is not valid UTF-8"
		}
		if utf8.RuneCountInString(s) > MaxTextRunes {
			return p, fmt.Sprintf("is too long (%d characters at most)", MaxTextRunes)
		}
		if strings.ContainsRune(s, 0) {
			return p, "contains a NUL character"
		}
		p.Text = &s
	}
	return p, ""
}

func parseInt(v json.RawMessage) (int, bool) {
	var f json.Number
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&f); err != nil {
		// Forms post numbers as strings.
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, false
		}
		f = json.Number(s)
	}
	n, err := strconv.Atoi(string(f))
	return n, err == nil
}

func hasOption(q *Question, id string) bool {
	for _, o := range q.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}
