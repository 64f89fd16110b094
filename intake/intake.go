// Package intake turns a validated submission into the response we store:
// typed answers, the analyzer's tags for free text, the rollup fields and the
// sealed contact details. The API, the demo data and the tools share it so
// that every response is built the same way.
package intake

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// Build makes the stored form of sub, whose answers def has validated.
func Build(def *survey.Survey, site *storage.Site, sub *survey.Submission, answers []survey.Parsed,
	an *analytics.Analyzer, keys *secure.Keyring, at time.Time) (*storage.NewResponse, error) {
	r := &storage.NewResponse{
		ID: sub.ID, Survey: def.Slug, SurveyVersion: def.Version, Site: site.Slug, Department: sub.Department,
		Provider: sub.Provider, Channel: sub.Channel, Lang: sub.Lang, SubmittedAt: at,
		LocalDay: at.In(site.Location()).Format(time.DateOnly), Fingerprint: survey.Fingerprint(sub, answers),
	}
	for _, a := range answers {
		na := storage.NewAnswer{Question: a.Question, Position: a.Position, Type: a.Type, Intent: a.Intent,
			Num: a.Num, Text: a.Text, Choices: a.Choices}
		switch a.Type {
		case survey.TypeRating5:
			if r.FFT == nil {
				r.FFT = a.Num
			}
		case survey.TypeNPS:
			if r.NPS == nil {
				r.NPS = a.Num
			}
		case survey.TypeText:
			res := an.Analyze(*a.Text, analytics.Intent(a.Intent))
			na.Analysis = &res
		}
		r.Answers = append(r.Answers, na)
	}
	if c := sub.Contact; !c.Empty() {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("intake: contact: %w", err)
		}
		// Bound to the response id, so a sealed blob can't be moved to
		// another response.
		sealed, err := keys.Seal(b, []byte(sub.ID))
		if err != nil {
			return nil, fmt.Errorf("intake: seal contact: %w", err)
		}
		r.Contact, r.WantsContact = sealed, c.OKToContact
	}
	return r, nil
}
