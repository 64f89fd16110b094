package storage_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// rollupSentiments sums the sentiment counters of the daily rollup.
func rollupSentiments(t *testing.T, s *storage.Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	var pos, neu, neg, mix, comments int64
	if err := s.QueryRowForTest(context.Background(), "SELECT COALESCE(SUM(positive),0), COALESCE(SUM(neutral),0), COALESCE(SUM(negative),0), COALESCE(SUM(mixed),0), COALESCE(SUM(comments),0) FROM rollup_daily",
		&pos, &neu, &neg, &mix, &comments); err != nil {
		t.Fatal(err)
	}
	out["positive"], out["neutral"], out["negative"], out["mixed"], out["comments"] = pos, neu, neg, mix, comments
	return out
}

func TestRetagMovesRollups(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		// Stored as "negative" with a wait theme by an old analyzer.
		for i := 0; i < 3; i++ {
			r := newResponse(fmt.Sprintf("6f1c1d0e-2222-4a4a-9b9b-00000000000%d", i), 1, "Lovely kind staff, thank you")
			r.Answers[1].Analysis.Version = "old"
			if _, err := s.SubmitResponse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		before := rollupSentiments(t, s)
		if before["negative"] != 3 {
			t.Fatalf("got %d negative before, want 3", before["negative"])
		}
		an, _ := analytics.New()
		items, err := s.CommentsToRetag(ctx, analytics.Version, false, 0, "", 10)
		if err != nil || len(items) != 3 {
			t.Fatalf("got %d items (%v), want 3", len(items), err)
		}
		results := make([]analytics.Result, len(items))
		for i, it := range items {
			results[i] = an.Analyze(it.Text, analytics.Intent(it.Intent))
		}
		if err := s.SaveRetag(ctx, items, results); err != nil {
			t.Fatal(err)
		}
		after := rollupSentiments(t, s)
		if after["comments"] != 3 || after["negative"]+after["positive"]+after["neutral"]+after["mixed"] != 3 {
			t.Errorf("rollup after retag: %v, want 3 comments", after)
		}
		if got := after[results[0].Sentiment]; got != 3 {
			t.Errorf("got %d %s comments in rollup, want 3", got, results[0].Sentiment)
		}
		left, err := s.CommentsToRetag(ctx, analytics.Version, false, 0, "", 10)
		if err != nil || len(left) != 0 {
			t.Errorf("got %d comments left to retag (%v), want 0", len(left), err)
		}
		r, err := s.ResponseByID(ctx, "6f1c1d0e-2222-4a4a-9b9b-000000000000")
		if err != nil || r.Answers[1].Analysis.Version != analytics.Version {
			t.Errorf("stored version not updated: %+v %v", r, err)
		}
	})
}
