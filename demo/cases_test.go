package demo

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestFillCases: the demo queue has cases in every state and one urgent
// case, and a second run adds nothing.
func TestFillCases(t *testing.T) {
	st := storagetest.SQLite(t)
	ctx := context.Background()
	an, err := analytics.New()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := secure.NewKeyring(secure.GenerateKey())
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	if err := Fill(ctx, st, an, keys, Options{Responses: 1500, Months: 2, Now: now}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := FillCases(ctx, st, an, keys, now, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.Cases(ctx, storage.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	urgent, overdue := 0, 0
	for _, k := range all {
		count[k.Status]++
		if k.Urgent {
			urgent++
		}
		if cases.Overdue(k.Status, k.DueAt, now) {
			overdue++
		}
	}
	for _, s := range []string{cases.StatusNew, cases.StatusContacted, cases.StatusResolved, cases.StatusClosed} {
		if count[s] == 0 {
			t.Errorf("no %s cases: %v", s, count)
		}
	}
	if urgent != 1 || overdue == 0 {
		t.Errorf("urgent %d (want 1), overdue %d (want some)", urgent, overdue)
	}
	as, _ := st.PublishedActions(ctx, "north", "en", 3)
	if len(as) != 1 {
		t.Errorf("north's published actions: %d, want 1", len(as))
	}
	t.Logf("%d cases: %v, %d overdue", len(all), count, overdue)
}
