package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

func newResponse(id string, fft int, comment string) *storage.NewResponse {
	text := comment
	return &storage.NewResponse{
		ID: id, Survey: "fft", SurveyVersion: 1, Site: "main", Department: "general", Channel: "link", Lang: "en",
		SubmittedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), LocalDay: "2026-03-02", Fingerprint: "fp-" + comment,
		FFT: &fft,
		Answers: []storage.NewAnswer{
			{Question: "q1", Position: 0, Type: "rating5", Num: &fft},
			{Question: "q3", Position: 2, Type: "text", Intent: "improve", Text: &text, Analysis: &analytics.Result{
				Sentiment: "negative", Score: -0.5, Version: "t",
				Themes: []analytics.ThemeHit{{ID: "wait_times", Polarity: "negative", Evidence: "wait"}}}},
		},
	}
}

func TestMigrateTwice(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		before, err := s.Migrations(ctx)
		if err != nil || len(before) == 0 {
			t.Fatalf("migrations: %v %v", before, err)
		}
		if err := s.Seed(ctx, "UTC"); err != nil {
			t.Fatalf("second seed: %v", err)
		}
		surveys, err := s.Surveys(ctx)
		if err != nil || len(surveys) != 3 {
			t.Fatalf("got %d surveys (%v), want 3", len(surveys), err)
		}
	})
}

func TestSubmitIdempotent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		const id = "6f1c1d0e-1111-4a4a-9b9b-000000000001"
		var wg sync.WaitGroup
		outcomes := make(chan storage.Outcome, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := s.SubmitResponse(ctx, newResponse(id, 2, "the wait"))
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				outcomes <- rec.Outcome
			}()
		}
		wg.Wait()
		close(outcomes)
		created := 0
		for o := range outcomes {
			if o == storage.Created {
				created++
			} else if o != storage.Duplicate {
				t.Errorf("got outcome %v, want Duplicate", o)
			}
		}
		if created != 1 {
			t.Errorf("got %d created, want 1", created)
		}
		rec, err := s.SubmitResponse(ctx, newResponse(id, 4, "other"))
		if err != nil || rec.Outcome != storage.Conflict {
			t.Errorf("got %v %v, want Conflict", rec.Outcome, err)
		}
		n, err := s.CountResponses(ctx)
		if err != nil || n != 1 {
			t.Errorf("got %d responses (%v), want 1", n, err)
		}
	})
}

func TestBadSubmissionFailsAlone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		good := newResponse("6f1c1d0e-1111-4a4a-9b9b-000000000002", 1, "fine")
		bad := newResponse("6f1c1d0e-1111-4a4a-9b9b-000000000003", 1, "fine")
		bad.Site = "nowhere" // violates the foreign key
		var wg sync.WaitGroup
		var goodErr, badErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, goodErr = s.SubmitResponse(ctx, good) }()
		go func() { defer wg.Done(); _, badErr = s.SubmitResponse(ctx, bad) }()
		wg.Wait()
		if goodErr != nil {
			t.Errorf("good submission: %v", goodErr)
		}
		if badErr == nil {
			t.Errorf("bad submission: got nil error")
		}
		n, _ := s.CountResponses(ctx)
		if n != 1 {
			t.Errorf("got %d responses, want 1", n)
		}
	})
}

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"3.51.2", "3.51.3", true}, {"3.51.3", "3.51.3", false}, {"3.52.0", "3.51.3", false}, {"3.9", "3.51.3", true}} {
		if got := storage.VersionLess(c.a, c.b); got != c.want {
			t.Errorf("VersionLess(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
