// Package survey holds survey definitions, the built-in surveys and the
// validation of a patient's submission against a definition. It knows nothing
// of HTTP or storage, so the JSON API and the HTML forms share one validator.
package survey

import (
	"fmt"
	"regexp"
	"strings"
)

// Question types (SPEC "Question types").
const (
	TypeRating5 = "rating5"
	TypeNPS     = "nps"
	TypeYesNo   = "yesno"
	TypeChoice  = "choice"
	TypeMulti   = "multi"
	TypeText    = "text"
)

// Text intents.
const (
	IntentPraise  = "praise"
	IntentImprove = "improve"
	IntentOpen    = "open"
)

// MaxTextRunes bounds one free-text answer.
const MaxTextRunes = 5000

// Text is a string in several languages, keyed by language code.
type Text map[string]string

// In returns the text in lang, falling back to English, then to any language.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	if s, ok := t["en"]; ok {
		return s
	}
	for _, s := range t {
		return s
	}
	return ""
}

// Option is one choice of a choice or multi question.
type Option struct {
	ID   string `json:"id"`
	Text Text   `json:"text"`
}

// Question is one question of a survey.
type Question struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Intent   string   `json:"intent,omitempty"`
	Required bool     `json:"required"`
	Text     Text     `json:"text"`
	Options  []Option `json:"options,omitempty"`
}

// Survey is one version of a survey definition.
type Survey struct {
	Slug      string     `json:"slug"`
	Version   int        `json:"version"`
	Title     Text       `json:"title"`
	Questions []Question `json:"questions"`
}

// Question returns the question with id, or nil.
func (s *Survey) Question(id string) *Question {
	for i := range s.Questions {
		if s.Questions[i].ID == id {
			return &s.Questions[i]
		}
	}
	return nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidSlug reports whether s can name a survey, site, department or question.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Check validates a definition submitted by an admin; it returns a field map
// (path → reason), empty when the definition is usable.
func (s *Survey) Check() map[string]string {
	f := map[string]string{}
	if !ValidSlug(s.Slug) {
		f["slug"] = "must be 1-63 lowercase letters, digits, '-' or '_'"
	}
	// Not Title.In: it falls back to any language, and English is the
	// text every other language falls back to.
	if strings.TrimSpace(s.Title["en"]) == "" {
		f["title"] = "an English title is required"
	}
	if len(s.Questions) == 0 {
		f["questions"] = "at least one question is required"
	}
	seen := map[string]bool{}
	for i, q := range s.Questions {
		p := fmt.Sprintf("questions[%d]", i)
		if !ValidSlug(q.ID) {
			f[p+".id"] = "must be 1-63 lowercase letters, digits, '-' or '_'"
		} else if seen[q.ID] {
			f[p+".id"] = "duplicate question id"
		}
		seen[q.ID] = true
		switch q.Type {
		case TypeRating5, TypeNPS, TypeYesNo:
		case TypeChoice, TypeMulti:
			if len(q.Options) < 2 {
				f[p+".options"] = "a choice question needs at least two options"
			}
			ids := map[string]bool{}
			for j, o := range q.Options {
				if !ValidSlug(o.ID) || ids[o.ID] {
					f[fmt.Sprintf("%s.options[%d].id", p, j)] = "must be a unique slug"
				}
				if strings.TrimSpace(o.Text["en"]) == "" {
					f[fmt.Sprintf("%s.options[%d].text", p, j)] = "English text is required"
				}
				ids[o.ID] = true
			}
		case TypeText:
			switch q.Intent {
			case IntentPraise, IntentImprove, IntentOpen:
			case "":
				s.Questions[i].Intent = IntentOpen
			default:
				f[p+".intent"] = "must be praise, improve or open"
			}
		default:
			f[p+".type"] = "unknown question type"
		}
		if strings.TrimSpace(q.Text["en"]) == "" {
			f[p+".text"] = "English text is required"
		}
	}
	return f
}
