package storage

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestCaseClosedDaysMigration saves rules as a database before 0014 held
// them, applies 0014 and checks they read back unchanged with no closed
// days, on both engines.
func TestCaseClosedDaysMigration(t *testing.T) {
	for name, s := range internalStoresWith(t, Config{migrateUntil: 13}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.wdb.ExecContext(ctx, `INSERT INTO case_rules (site, fft_poor, nps_detractor, ignored_dismissed,
				alert_new, due_working_days, working_days, updated_at, updated_by) VALUES ('main', 0, 1, 1, 0, 3, '0,1,2,3,4', 1, 't')`); err != nil {
				t.Fatal(err)
			}
			if err := s.migrate(ctx, 0); err != nil {
				t.Fatal(err)
			}
			r, err := s.CaseRules(ctx, "main")
			if err != nil || r.FFTPoor || r.DueWorkingDays != 3 || r.ClosedDays != nil ||
				!slices.Equal(r.WorkingDays, []time.Weekday{0, 1, 2, 3, 4}) {
				t.Fatalf("after 0014: %+v %v", r, err)
			}
		})
	}
}
