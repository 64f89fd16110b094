package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// BenchLoad stores many responses in one transaction, without the group
// writer's per-submission savepoints and queue. It exists only to build the
// million-response databases of `carevoice dashbench`; the rollups it writes
// are the sums rollupBatch makes for SubmitResponse, so they are exactly what
// the group writer would have made. Nothing may submit at the same time, and
// the ids must be new.
//
// SQLite runs the writer's own insert and rollup code. PostgreSQL would spend
// a loopback round trip on every row that way (~1,000 responses/s), so there
// the rows go in with COPY and the rollup upserts in one pipelined batch.
func (s *Store) BenchLoad(ctx context.Context, rs []*NewResponse) error {
	if s.dialect == "postgres" {
		return s.benchLoadPostgres(ctx, rs)
	}
	w := &groupWriter{s: s}
	if err := w.prepareOne(); err != nil {
		return err
	}
	defer w.closeStatements()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	agg := newRollupBatch()
	for _, r := range rs {
		rec, err := w.insertResponse(ctx, tx, r, newResponseRows(r))
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

var errBenchUnsupported = errors.New("storage: bench load: invitations, contacts and cases are not supported")

func (s *Store) benchLoadPostgres(ctx context.Context, rs []*NewResponse) error {
	for _, r := range rs {
		if r.InvitationHash != "" || r.Contact != nil || r.Case != nil {
			return errBenchUnsupported
		}
	}
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	defer tx.Rollback()
	// COPY cannot return the new seqs, so take them from the sequence first.
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('responses', 'seq')) FROM generate_series(1, $1)`, len(rs))
	if err != nil {
		return fmt.Errorf("storage: bench load: reserve seqs: %w", err)
	}
	seqs := make([]int64, 0, len(rs))
	for rows.Next() {
		var q int64
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return fmt.Errorf("storage: bench load: reserve seqs: %w", err)
		}
		seqs = append(seqs, q)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("storage: bench load: reserve seqs: %w", err)
	}
	var resp, answers, themes [][]any
	agg := newRollupBatch()
	for i, r := range rs {
		seq := seqs[i]
		resp = append(resp, []any{seq, r.ID, r.Survey, int64(r.SurveyVersion), r.Site, r.Department, r.Provider, r.Channel, r.Lang,
			ms(r.SubmittedAt), r.LocalDay, r.Fingerprint, nullInt(r.FFT), nullInt(r.NPS), int64(boolInt(r.WantsContact)), r.DeviceID})
		for _, a := range r.Answers {
			var choices, sentiment, themesJSON, version, score any
			if a.Choices != nil {
				return errBenchUnsupported
			}
			if a.Analysis != nil {
				sentiment, score, version = a.Analysis.Sentiment, a.Analysis.Score, a.Analysis.Version
				themesJSON = themesText(a.Analysis.Themes)
				for k, h := range a.Analysis.Themes {
					if firstTheme(a.Analysis.Themes, k) {
						themes = append(themes, []any{seq, a.Question, h.ID, h.Polarity})
					}
				}
			}
			answers = append(answers, []any{seq, a.Question, int64(a.Position), a.Type, a.Intent,
				nullInt(a.Num), nullString(a.Text), choices, sentiment, score, themesJSON, version})
		}
		agg.add(r)
	}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"responses", []string{"seq", "id", "survey", "survey_version", "site", "department", "provider", "channel", "lang",
				"submitted_at", "local_day", "fingerprint", "fft", "nps", "wants_contact", "device_id"}, resp},
			{"answers", []string{"response_seq", "question", "position", "qtype", "intent", "value_num", "value_text",
				"value_choices", "sentiment", "score", "themes", "analyzer_version"}, answers},
			{"comment_themes", []string{"response_seq", "question", "theme", "polarity"}, themes},
		} {
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
				return fmt.Errorf("storage: bench load: copy %s: %w", c.table, err)
			}
		}
		return pc.SendBatch(ctx, agg.pgxBatch()).Close()
	})
	if err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: bench load: %w", err)
	}
	return nil
}

// pgxBatch queues every rollup upsert of b (fine, site-, department-level,
// monthly and per-dimension, in the writer's order) for one pipelined round trip.
func (b *rollupBatch) pgxBatch() *pgx.Batch {
	pb := &pgx.Batch{}
	for _, k := range sortedKeys(b.daily, rollupKey.less) {
		c := b.daily[k]
		pb.Queue(upsertDaily, k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel,
			c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
			c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed)
	}
	for _, k := range sortedKeys(b.themes, rollupKey.less) {
		pb.Queue(upsertTheme, themeArgs([]any{k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel}, b.themes[k])...)
	}
	b.coarseUpserts(func(q string, args ...any) error { pb.Queue(q, args...); return nil })
	return pb
}

// BenchAnalyze refreshes the planner's statistics after a bulk load, as
// autovacuum would some minutes later: on PostgreSQL, VACUUM ANALYZE of the
// tables the load wrote (which also sets the visibility map that index-only
// scans need; only these tables, since the server may hold other schemas);
// on SQLite, nothing, since the measured plans were made without
// statistics.
func (s *Store) BenchAnalyze(ctx context.Context) error {
	if s.dialect != "postgres" {
		return nil
	}
	if _, err := s.wdb.ExecContext(ctx, "VACUUM ANALYZE responses, answers, comment_themes, rollup_daily, rollup_themes, rollup_site_daily, rollup_site_themes, rollup_dept_daily, rollup_dept_themes, rollup_daily_month, rollup_themes_month, rollup_site_themes_month, rollup_dim_daily, rollup_dim_themes"); err != nil {
		return fmt.Errorf("storage: vacuum analyze: %w", err)
	}
	return nil
}
