package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

func caseResponse(id string, at time.Time, fft int, theme string, withCase *storage.NewCase) *storage.NewResponse {
	text := "comment " + id
	r := &storage.NewResponse{
		ID: id, Survey: "fft", SurveyVersion: 1, Site: "main", Channel: "link", Lang: "en",
		SubmittedAt: at, LocalDay: at.UTC().Format(time.DateOnly), Fingerprint: "fp-" + id, FFT: &fft,
		Answers: []storage.NewAnswer{
			{Question: "q1", Position: 0, Type: "rating5", Num: &fft},
			{Question: "q3", Position: 2, Type: "text", Intent: "improve", Text: &text, Analysis: &analytics.Result{
				Sentiment: "negative", Score: -0.5, Version: "t",
				Themes: []analytics.ThemeHit{{ID: theme, Polarity: "negative", Evidence: "x"}}}},
		},
		Case: withCase,
	}
	if withCase != nil {
		r.Contact, r.WantsContact = []byte("sealed"), true
	}
	return r
}

func TestCasesStorage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		var ids []int64
		for i, due := range []time.Time{at.Add(72 * time.Hour), at.Add(24 * time.Hour)} {
			nc := &storage.NewCase{Urgent: i == 1, Reason: "urgent:fall,contact_requested", DueAt: due.UnixMilli()}
			r := caseResponse(fmt.Sprintf("r%d", i), at, 5, "wait_times", nc)
			if _, err := s.SubmitResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
			if nc.ID == 0 {
				t.Fatal("case id not set")
			}
			ids = append(ids, nc.ID)
		}
		// A response without a case.
		if _, err := s.SubmitResponse(ctx, caseResponse("r9", at, 1, "ignored", nil)); err != nil {
			t.Fatal(err)
		}
		ks, err := s.Cases(ctx, storage.CaseFilter{})
		if err != nil || len(ks) != 2 || ks[0].ID != ids[1] || !ks[0].Urgent || ks[0].Reason() != "urgent:fall" {
			t.Fatalf("queue: %+v %v (want soonest due first)", ks, err)
		}
		if ks, _ := s.Cases(ctx, storage.CaseFilter{Sites: []string{}}); len(ks) != 0 {
			t.Fatal("an empty site list saw cases")
		}
		if ks, _ := s.Cases(ctx, storage.CaseFilter{Sites: []string{"main"}, Urgent: true}); len(ks) != 1 {
			t.Fatalf("urgent filter: %d", len(ks))
		}
		// Moves, with optimistic checking.
		k, err := s.UpdateCase(ctx, ids[0], storage.CaseUpdate{FromStatus: "new", Status: "contacted", Note: "called", Actor: "t", At: at.Add(time.Hour)})
		if err != nil || k.Status != "contacted" || k.ContactedAt == nil || !k.ContactedAt.Equal(at.Add(time.Hour)) || len(k.Notes) != 1 {
			t.Fatalf("contacted: %+v %v", k, err)
		}
		if _, err := s.UpdateCase(ctx, ids[0], storage.CaseUpdate{FromStatus: "new", Status: "closed", CloseReason: "declined"}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("stale update: got %v, want ErrConflict", err)
		}
		if _, err := s.UpdateCase(ctx, 999, storage.CaseUpdate{Note: "x"}); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("missing case: got %v, want ErrNotFound", err)
		}
		who := "nora@example.org"
		if k, err = s.UpdateCase(ctx, ids[1], storage.CaseUpdate{FromStatus: "new", Status: "closed", CloseReason: "unreachable", Assignee: &who}); err != nil || k.ClosedAt == nil || k.Assignee != who {
			t.Fatalf("closed: %+v %v", k, err)
		}
		sealed, rid, err := s.CaseContact(ctx, ids[0])
		if err != nil || string(sealed) != "sealed" || rid != "r0" {
			t.Fatalf("contact: %q %q %v", sealed, rid, err)
		}
		// Report rows and the digest.
		rows, err := s.CaseReportCases(ctx, nil, "2026-03", "2026-03")
		if err != nil || len(rows) != 2 {
			t.Fatalf("report rows: %v %v", rows, err)
		}
		c, err := s.CaseDigest(ctx, nil, at.Add(2*time.Hour))
		if err != nil || c.New != 2 || c.Overdue != 0 {
			t.Fatalf("digest: %+v %v", c, err)
		}
		// Candidates for the demo: r9 has a complaint theme of "ignored".
		cs, err := s.CaseCandidates(ctx, at.Add(-time.Hour))
		if err != nil || len(cs) != 1 || cs[0].ID != "r9" || !slices.Contains(cs[0].Themes, "ignored") || !cs[0].Negative {
			t.Fatalf("candidates: %+v %v", cs, err)
		}
		n, err := s.ImportCases(ctx, []storage.ImportedCase{{ResponseID: "r9", NewCase: storage.NewCase{Reason: "ignored", DueAt: at.UnixMilli()},
			Status: "resolved", OpenedAt: at, Month: "2026-03", Outcome: "apology", Notes: []storage.CaseNote{{At: at, Author: "demo", Body: "n"}}},
			{ResponseID: "r0", Status: "new"}})
		if err != nil || n != 1 {
			t.Fatalf("import: %d %v (r0 has a case already)", n, err)
		}
		// Rules round trip.
		r := cases.DefaultRules()
		r.FFTPoor, r.DueWorkingDays, r.WorkingDays = false, 3, []time.Weekday{0, 1, 2, 3, 4}
		if _, err := s.SaveCaseRules(ctx, "main", r, "t"); err != nil {
			t.Fatal(err)
		}
		got, err := s.CaseRules(ctx, "main")
		if err != nil || got.FFTPoor || got.DueWorkingDays != 3 || !slices.Equal(got.WorkingDays, r.WorkingDays) {
			t.Fatalf("rules: %+v %v", got, err)
		}
		if _, err := s.SaveCaseRules(ctx, "nowhere", r, "t"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("rules for an unknown site: %v", err)
		}
		// Complaint series from the rollups.
		comments, complaints, err := s.ComplaintDays(ctx, "main", "2026-03-01", "2026-03-07")
		if err != nil || comments["2026-03-02"] != 3 || complaints["wait_times"]["2026-03-02"] != 2 || complaints["ignored"]["2026-03-02"] != 1 {
			t.Fatalf("complaint days: %v %v %v", comments, complaints, err)
		}
	})
}

// TestCaseRulesClosedDays saves closed days and reads them back sorted and
// without repeats, on each engine.
func TestCaseRulesClosedDays(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		if got, err := s.CaseRules(ctx, "main"); err != nil || got.ClosedDays != nil {
			t.Fatalf("defaults: %v %v", got.ClosedDays, err)
		}
		tests := []struct {
			name   string
			closed []string
			want   []string
		}{
			{"sorted", []string{"2026-12-28", "2026-12-25", "2027-01-01"}, []string{"2026-12-25", "2026-12-28", "2027-01-01"}},
			{"repeats dropped", []string{"2026-05-04", "2026-05-04", "2026-05-25"}, []string{"2026-05-04", "2026-05-25"}},
			{"cleared", nil, nil},
		}
		for _, tt := range tests {
			r := cases.DefaultRules()
			r.DueWorkingDays, r.ClosedDays = 3, tt.closed
			if _, err := s.SaveCaseRules(ctx, "main", r, "t"); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, err := s.CaseRules(ctx, "main")
			if err != nil || !slices.Equal(got.ClosedDays, tt.want) || got.DueWorkingDays != 3 ||
				!slices.Equal(got.WorkingDays, r.WorkingDays) {
				t.Errorf("%s: got %+v %v, want closed days %v", tt.name, got, err, tt.want)
			}
		}
	})
}

// TestCaseRulesReschedule: saving rules moves the due time of the cases still
// waiting for first contact to what the rules now give, and leaves contacted
// and closed cases, and other sites', as they were judged.
func TestCaseRulesReschedule(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		// Friday 6 March 2026, 15:00 UTC ("main" is on UTC); 2 working days:
		// due at the end of Tuesday 10 March.
		at := time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)
		rules := cases.DefaultRules()
		rules.DueWorkingDays = 2
		tuesday := cases.DueAt(at, time.UTC, rules)
		if tuesday != time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC) {
			t.Fatalf("test setup: due %v", tuesday)
		}
		ids := map[string]int64{}
		for _, name := range []string{"waiting", "contacted", "closed"} {
			nc := &storage.NewCase{Reason: "fft_poor", DueAt: tuesday.UnixMilli()}
			if _, err := s.SubmitResponse(ctx, caseResponse(name, at, 5, "wait_times", nc)); err != nil {
				t.Fatal(err)
			}
			ids[name] = nc.ID
		}
		for name, status := range map[string]string{"contacted": cases.StatusContacted, "closed": cases.StatusClosed} {
			if _, err := s.UpdateCase(ctx, ids[name], storage.CaseUpdate{Status: status, FromStatus: cases.StatusNew,
				CloseReason: "duplicate", Actor: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		due := func(name string) time.Time {
			t.Helper()
			k, err := s.CaseByID(ctx, ids[name])
			if err != nil {
				t.Fatal(err)
			}
			return k.DueAt.UTC()
		}
		for _, tt := range []struct {
			name    string
			closed  []string
			days    int
			moved   int
			waiting time.Time
		}{
			{"unchanged rules move nothing", nil, 2, 0, tuesday},
			{"Monday closed: end of Wednesday", []string{"2026-03-09"}, 2, 1, tuesday.AddDate(0, 0, 1)},
			{"saved again: nothing more", []string{"2026-03-09"}, 2, 0, tuesday.AddDate(0, 0, 1)},
			{"three days: end of Thursday", []string{"2026-03-09"}, 3, 1, tuesday.AddDate(0, 0, 2)},
			{"holiday removed, back to two days", nil, 2, 1, tuesday},
		} {
			r := rules
			r.DueWorkingDays, r.ClosedDays = tt.days, tt.closed
			moved, err := s.SaveCaseRules(ctx, "main", r, "t")
			if err != nil || moved != tt.moved {
				t.Fatalf("%s: moved %d %v, want %d", tt.name, moved, err, tt.moved)
			}
			if got := due("waiting"); !got.Equal(tt.waiting) {
				t.Errorf("%s: waiting case due %v, want %v", tt.name, got, tt.waiting)
			}
			for _, name := range []string{"contacted", "closed"} {
				if got := due(name); !got.Equal(tuesday) {
					t.Errorf("%s: %s case due %v, want it kept at %v", tt.name, name, got, tuesday)
				}
			}
		}
		// Another site's rules leave main's cases alone.
		if err := s.UpsertSite(ctx, storage.Site{Slug: "other", Name: "Other", TimeZone: "UTC"}); err != nil {
			t.Fatal(err)
		}
		r := rules
		r.DueWorkingDays = 5
		if moved, err := s.SaveCaseRules(ctx, "other", r, "t"); err != nil || moved != 0 {
			t.Fatalf("other site: moved %d %v", moved, err)
		}
		if got := due("waiting"); !got.Equal(tuesday) {
			t.Errorf("after another site's save: due %v, want %v", got, tuesday)
		}
	})
}

func TestActionsStorage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		draft := &storage.Action{Site: "main", Body: "draft", Author: "t"}
		live := &storage.Action{Site: "main", Lang: "es", Body: "publicado", Author: "t"}
		if err := s.CreateAction(ctx, draft, false); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAction(ctx, live, true); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			lang string
			want int
		}{{"en", 0}, {"es", 1}} {
			as, err := s.PublishedActions(ctx, "main", tt.lang, 3)
			if err != nil || len(as) != tt.want {
				t.Fatalf("%s: %v %v, want %d", tt.lang, as, err, tt.want)
			}
		}
		if err := s.SetActionState(ctx, draft.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetActionState(ctx, live.ID, false); err != nil {
			t.Fatal(err)
		}
		as, _ := s.PublishedActions(ctx, "main", "es", 3)
		if len(as) != 1 || as[0].Body != "draft" {
			t.Fatalf("after publish and withdraw: %+v", as)
		}
		all, _ := s.Actions(ctx, nil, 10)
		if len(all) != 2 {
			t.Fatalf("staff list: %d", len(all))
		}
		if err := s.SetActionState(ctx, 999, true); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown action: %v", err)
		}
	})
}

func TestDeliveriesStorage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		d := &storage.Delivery{Dedupe: "k1", Kind: "case.urgent", Channel: "webhook", Target: "http://x", Subject: "s", Payload: "{}", NextAt: now}
		if ok, err := s.AddDelivery(ctx, d); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		if ok, err := s.AddDelivery(ctx, &storage.Delivery{Dedupe: "k1", Kind: "x", Channel: "email", Target: "a", NextAt: now}); ok || err != nil {
			t.Fatalf("duplicate: %v %v", ok, err)
		}
		got, err := s.ClaimDeliveries(ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %v", got, err)
		}
		if again, _ := s.ClaimDeliveries(ctx, now, time.Minute, 10); len(again) != 0 {
			t.Fatal("a leased delivery was claimed twice")
		}
		if err := s.RecordAttempt(ctx, d.ID, storage.DeliveryAttempt{At: now, StatusCode: 500, Error: "boom"}, "pending", now.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ClaimDeliveries(ctx, now.Add(30*time.Second), time.Minute, 10); len(got) != 1 || got[0].Attempts != 1 {
			t.Fatalf("retry claim: %+v", got)
		}
		if err := s.RecordAttempt(ctx, d.ID, storage.DeliveryAttempt{At: now, OK: true, StatusCode: 200}, "sent", now); err != nil {
			t.Fatal(err)
		}
		as, err := s.DeliveryAttempts(ctx, d.ID)
		if err != nil || len(as) != 2 || as[0].OK || !as[1].OK || as[0].StatusCode != 500 {
			t.Fatalf("attempts: %+v %v", as, err)
		}
		ds, _ := s.Deliveries(ctx, "", 10)
		if len(ds) != 1 || ds[0].Status != "sent" || ds[0].Attempts != 2 {
			t.Fatalf("deliveries: %+v", ds)
		}
	})
}
