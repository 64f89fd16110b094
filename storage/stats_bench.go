package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// BenchLoad stores many responses in one transaction, without the group
// writer's per-submission savepoints and queue. It exists only to build the
// million-response databases of `carevoice dashbench`; it runs the writer's
// own insert and rollup code, so the rollups are exactly what SubmitResponse
// would have made. Nothing may submit at the same time.
func (s *Store) BenchLoad(ctx context.Context, rs []*NewResponse) error {
	w := &groupWriter{s: s}
	if err := w.prepare(); err != nil {
		return err
	}
	defer func() {
		for _, st := range []*sql.Stmt{w.insResp, w.insAnswer, w.insTheme, w.insContact, w.useInvite, w.delResp, w.lookupResp, w.upDaily, w.upTheme} {
			st.Close()
		}
		for _, m := range []*multiInsert{w.multiResp, w.multiAnswer, w.multiTheme} {
			m.close()
		}
	}()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	agg := newRollupBatch()
	for _, r := range rs {
		rec, err := w.insertResponse(ctx, tx, r)
		if err != nil {
			tx.Rollback()
			return err
		}
		if rec.Outcome == Created {
			agg.add(r)
		}
	}
	if err := agg.flush(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	return nil
}
