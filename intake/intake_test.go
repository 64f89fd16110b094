package intake

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

func TestBuild(t *testing.T) {
	an, err := analytics.New()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := secure.NewKeyring(secure.GenerateKey())
	var fft *survey.Survey
	for _, s := range survey.Builtin() {
		if s.Slug == "fft" {
			fft = &s
		}
	}
	site := &storage.Site{Slug: "north", TimeZone: "America/New_York"}
	const id = "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01"
	sub := &survey.Submission{ID: id, Survey: "fft", Site: "north", Channel: survey.ChannelLink, Lang: "es",
		Answers: []survey.Answer{{Question: "q3", Value: json.RawMessage(`"La espera fue muy larga"`)}, {Question: "q1", Value: json.RawMessage(`4`)}},
		Contact: &survey.Contact{OKToContact: true, Phone: "555 010 0199"}}
	answers, f := survey.ValidateAnswers(fft, sub.Answers)
	if len(f) > 0 {
		t.Fatal(f)
	}
	// 02:30 UTC on 1 March is still 28 February in New York.
	at := time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)
	r, err := Build(fft, site, sub, answers, an, keys, at)
	if err != nil {
		t.Fatal(err)
	}
	if r.LocalDay != "2026-02-28" {
		t.Errorf("local day %s, want 2026-02-28 (the site's day)", r.LocalDay)
	}
	if r.FFT == nil || *r.FFT != 4 || r.NPS != nil {
		t.Errorf("rollup fields FFT %v NPS %v, want 4 and none", r.FFT, r.NPS)
	}
	if len(r.Answers) != 2 || r.Answers[0].Question != "q1" || r.Answers[1].Question != "q3" {
		t.Fatalf("answers %+v, want q1 then q3 in survey order", r.Answers)
	}
	if a := r.Answers[1]; a.Analysis == nil || a.Analysis.Version == "" || a.Intent != survey.IntentImprove {
		t.Errorf("the comment was not analysed as an improve answer: %+v", a)
	}
	if r.Answers[0].Analysis != nil {
		t.Error("a rating was sent to the analyzer")
	}
	if !r.WantsContact || bytes.Contains(r.Contact, []byte("555")) {
		t.Errorf("contact not sealed (wants %v)", r.WantsContact)
	}
	plain, err := keys.Open(r.Contact, []byte(id))
	if err != nil || !bytes.Contains(plain, []byte("555 010 0199")) {
		t.Errorf("sealed contact does not open for its response: %v", err)
	}
	if _, err := keys.Open(r.Contact, []byte("another-response")); err == nil {
		t.Error("a sealed contact opens for another response")
	}
	if r.Lang != "es" || r.Fingerprint != survey.Fingerprint(sub, answers) || r.SubmittedAt != at {
		t.Errorf("envelope: %+v", r)
	}
	// No contact block, nothing sealed.
	sub.Contact = nil
	if r, _ := Build(fft, site, sub, answers, an, keys, at); r.Contact != nil || r.WantsContact {
		t.Error("sealed a contact nobody gave")
	}
}
