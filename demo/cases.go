package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/intake"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// DemoManager is the demo account that some recent cases are assigned to.
const DemoManager = "manager@localhost"

var demoNotes = []string{
	"Called the patient and apologised for the wait; explained the Monday clinic changes.",
	"Left a voicemail, will try again tomorrow morning.",
	"Spoke to the patient; passed the concern to the practice manager.",
	"Patient was glad to be called back; no further action wanted.",
}

var demoActions = map[string]string{
	"north":   "You told us waits were long on Monday mornings; we added a second nurse to the Monday clinic.",
	"central": "You asked for clearer directions to pediatrics; we put up new signs in the lobby.",
	"south":   "You said it was hard to get through on the phone; we now open the phone line at 8:00.",
}

// FillCases opens follow-up cases for the demo responses already stored, by
// the default rules, with a believable history: old cases resolved or
// closed, recent ones new (some overdue) or contacted. It adds one urgent
// case that arrived a few hours ago and one published "You said, we did"
// action per site. Running it twice adds nothing twice.
func FillCases(ctx context.Context, st *storage.Store, an *analytics.Analyzer, keys *secure.Keyring, now time.Time, progress io.Writer) error {
	if now.IsZero() {
		now = time.Now()
	}
	cands, err := st.CaseCandidates(ctx, now.AddDate(0, -13, 0))
	if err != nil {
		return fmt.Errorf("demo cases: %w", err)
	}
	locs := map[string]*time.Location{}
	rules := cases.DefaultRules()
	var batch []storage.ImportedCase
	states := map[string]int{}
	for _, c := range cands {
		in := cases.Input{WantsContact: c.WantsContact, FFT: c.FFT, NPS: c.NPS}
		cm := cases.Comment{Themes: c.Themes}
		if c.Negative {
			cm.Sentiment = "negative"
		}
		in.Comments = []cases.Comment{cm}
		d := cases.Decide(rules, in)
		if !d.Open {
			continue
		}
		loc := locs[c.Site]
		if loc == nil {
			site, err := st.Site(ctx, c.Site)
			if err != nil {
				return fmt.Errorf("demo cases: %w", err)
			}
			loc = site.Location()
			locs[c.Site] = loc
		}
		due := cases.DueAt(c.SubmittedAt, loc, rules)
		ic := demoHistory(c, due, now)
		ic.NewCase = storage.NewCase{Reason: strings.Join(d.Reasons, ","), DueAt: due.UnixMilli()}
		ic.Month = c.SubmittedAt.In(loc).Format("2006-01")
		states[ic.Status]++
		batch = append(batch, ic)
	}
	n := 0
	for len(batch) > 0 {
		k := min(500, len(batch))
		m, err := st.ImportCases(ctx, batch[:k])
		if err != nil {
			return fmt.Errorf("demo cases: %w", err)
		}
		n += m
		batch = batch[k:]
	}
	if err := urgentDemoCase(ctx, st, an, keys, now); err != nil {
		return err
	}
	for site, body := range demoActions {
		if as, err := st.Actions(ctx, []string{site}, 1); err == nil && len(as) > 0 {
			continue
		} else if err != nil {
			return fmt.Errorf("demo actions: %w", err)
		}
		if _, err := st.Site(ctx, site); err != nil {
			continue
		}
		if err := st.CreateAction(ctx, &storage.Action{Site: site, Body: body, Author: "demo"}, true); err != nil {
			return fmt.Errorf("demo actions: %w", err)
		}
	}
	fmt.Fprintf(progress, "demo: %d follow-up cases (%d new, %d contacted, %d resolved, %d closed) and 1 urgent case\n",
		n, states[cases.StatusNew], states[cases.StatusContacted], states[cases.StatusResolved], states[cases.StatusClosed])
	return nil
}

// demoHistory decides, from the response id (so that the demo is the same
// every time), what happened to a case opened at c.SubmittedAt by now.
func demoHistory(c storage.CaseCandidate, due, now time.Time) storage.ImportedCase {
	h := fnv.New64a()
	h.Write([]byte(c.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), 8))
	opened := c.SubmittedAt
	ic := storage.ImportedCase{ResponseID: c.ID, Status: cases.StatusNew, OpenedAt: opened}
	age := now.Sub(opened)
	roll := rng.Float64()
	// Most calls come within a day or two; one in six is late.
	wait := time.Duration(2+rng.IntN(40)) * time.Hour
	if rng.IntN(6) == 0 {
		wait += time.Duration(48+rng.IntN(72)) * time.Hour
	}
	contacted := opened.Add(wait)
	switch {
	case age > 10*24*time.Hour && roll < 0.12:
		ic.Status, ic.CloseReason = cases.StatusClosed, cases.CloseReasons[rng.IntN(3)]
		t := opened.Add(time.Duration(24+rng.IntN(72)) * time.Hour)
		ic.ClosedAt = &t
	case age > 10*24*time.Hour:
		ic.Status, ic.ContactedAt = cases.StatusResolved, &contacted
		t := contacted.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		ic.ClosedAt, ic.Outcome = &t, cases.Outcomes[rng.IntN(len(cases.Outcomes))]
	case contacted.Before(now) && roll < 0.55:
		ic.Status, ic.ContactedAt = cases.StatusContacted, &contacted
		if roll < 0.25 && contacted.Add(24*time.Hour).Before(now) {
			t := contacted.Add(24 * time.Hour)
			ic.Status, ic.ClosedAt, ic.Outcome = cases.StatusResolved, &t, cases.Outcomes[rng.IntN(len(cases.Outcomes))]
		}
	case age > 3*24*time.Hour && roll > 0.92:
		ic.Status, ic.CloseReason = cases.StatusClosed, "unreachable"
		t := due
		ic.ClosedAt = &t
	}
	if ic.ContactedAt != nil {
		ic.Notes = append(ic.Notes, storage.CaseNote{At: *ic.ContactedAt, Author: "user:" + DemoManager, Body: demoNotes[rng.IntN(len(demoNotes))]})
	}
	if age < 30*24*time.Hour && (c.Site == "north" || c.Site == "central") && rng.IntN(2) == 0 {
		ic.Assignee = DemoManager
	}
	return ic
}

// urgentDemoCase stores one response with urgent wording through the same
// intake path as a real one, a few hours ago at north.
func urgentDemoCase(ctx context.Context, st *storage.Store, an *analytics.Analyzer, keys *secure.Keyring, now time.Time) error {
	site, err := st.Site(ctx, "north")
	if err != nil {
		return nil // not the demo's sites
	}
	def, err := st.Survey(ctx, "fft")
	if err != nil {
		return fmt.Errorf("demo urgent case: %w", err)
	}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	// A fixed id: a second run is an identical retry and stores nothing.
	sub := &survey.Submission{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("carevoice-demo-urgent-case")).String(), Survey: "fft", Site: "north", Department: "radiology", Channel: survey.ChannelLink, Lang: "en",
		Answers: []survey.Answer{{Question: "q1", Value: raw(4)},
			{Question: "q3", Value: raw("My mother slipped and fell in the radiology changing room and it was twenty minutes before anyone came to help her.")}},
		Contact: &survey.Contact{OKToContact: true, Name: "Dana Example", Phone: "+1 555 0142"}}
	answers, bad := survey.ValidateAnswers(def, sub.Answers)
	if len(bad) > 0 {
		return fmt.Errorf("demo urgent case: invalid answers %v", bad)
	}
	at := now.Add(-3 * time.Hour)
	r, err := intake.Build(def, site, sub, answers, an, keys, at)
	if err != nil {
		return fmt.Errorf("demo urgent case: %w", err)
	}
	var comments []cases.Comment
	for _, a := range r.Answers {
		if a.Text != nil {
			comments = append(comments, cases.Comment{Text: *a.Text})
		}
	}
	d := cases.Decide(cases.DefaultRules(), cases.Input{WantsContact: r.WantsContact, FFT: r.FFT, Comments: comments})
	due := cases.DueAt(at, site.Location(), cases.DefaultRules())
	r.Case = &storage.NewCase{Urgent: d.Urgent, Reason: strings.Join(d.Reasons, ","), DueAt: due.UnixMilli()}
	if _, err := st.SubmitResponse(ctx, r); err != nil {
		return fmt.Errorf("demo urgent case: %w", err)
	}
	return nil
}
