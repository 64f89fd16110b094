package survey_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/carevoice/carevoice/survey"
)

// FuzzSubmission feeds arbitrary bodies to the decoder and validators the
// API uses (POST /api/v1/responses). Nothing may panic; what validates must
// be whole (every required question, values in range, text valid UTF-8
// within the limit) and validating again must give the same answer, so a
// handler that stores only fully valid submissions never stores part of one.
func FuzzSubmission(f *testing.F) {
	for _, seed := range []string{
		`{"id":"6f1c1d0e-1111-4a4a-9b9b-000000000001","survey":"fft","site":"main","channel":"link","answers":[{"question":"q1","value":1},{"question":"q2","value":"Kind staff"}]}`,
		`{"id":"6f1c1d0e-1111-4a4a-9b9b-000000000001","survey":"nps","site":"main","channel":"kiosk","lang":"es","answers":[{"question":"q1","value":"10"},{"question":"q2","value":"Muy bien"}]}`,
		`{"id":"6f1c1d0e-1111-4a4a-9b9b-000000000001","survey":"suggestion","site":"main","channel":"suggestion","answers":[{"question":"q1","value":"More chairs"},{"question":"q2","value":"building"}],"contact":{"ok_to_contact":true,"email":"a@example.org"}}`,
		`{"id":"x","survey":"fft","answers":[{"question":"q1","value":6},{"question":"q1","value":1}]}`,
		`{"answers":[{"question":"q2","value":"\u0000"},{"question":"q3","value":[1,2]}]}`,
		`{"answers":null,"contact":{"phone":"+44 (0)20 7946 0000"}}`,
		`[]`, `{`, `{"id":1}`, "{\"answers\":[{\"question\":\"q2\",\"value\":\"\xff\"}]}",
	} {
		f.Add([]byte(seed))
	}
	defs := map[string]*survey.Survey{}
	for _, d := range survey.Builtin() {
		d := d
		defs[d.Slug] = &d
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var sub survey.Submission
		if json.Unmarshal(body, &sub) != nil {
			return
		}
		envelope := sub.ValidateEnvelope()
		if !survey.ValidID(sub.ID) && envelope["id"] == "" {
			t.Fatalf("invalid id %q passed the envelope", sub.ID)
		}
		def := defs[sub.Survey]
		if def == nil {
			def = defs["fft"] // the answers still go through a validator
		}
		parsed, fields := survey.ValidateAnswers(def, sub.Answers)
		again, fields2 := survey.ValidateAnswers(def, sub.Answers)
		if !reflect.DeepEqual(parsed, again) || !reflect.DeepEqual(fields, fields2) {
			t.Fatal("validating the same answers twice gave different results")
		}
		if len(fields) > 0 {
			return // refused as a whole: nothing would be stored
		}
		got := map[string]bool{}
		for _, p := range parsed {
			q := def.Question(p.Question)
			if q == nil || got[p.Question] || p.Position < 0 || p.Position >= len(def.Questions) || def.Questions[p.Position].ID != p.Question {
				t.Fatalf("parsed answer %+v does not match the survey", p)
			}
			got[p.Question] = true
			if p.Text != nil && (!utf8.ValidString(*p.Text) || utf8.RuneCountInString(*p.Text) > survey.MaxTextRunes) {
				t.Fatalf("text answer %q passed validation", *p.Text)
			}
			if p.Num != nil && (*p.Num < 0 || *p.Num > 10) {
				t.Fatalf("number %d passed validation", *p.Num)
			}
		}
		for _, q := range def.Questions {
			if q.Required && !got[q.ID] {
				t.Fatalf("required question %s missing from a valid submission", q.ID)
			}
		}
		if survey.Fingerprint(&sub, parsed) != survey.Fingerprint(&sub, again) {
			t.Fatal("fingerprint is not deterministic")
		}
	})
}
