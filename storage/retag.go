package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/carevoice/carevoice/analytics"
)

// RetagItem is a stored comment whose analysis is older than the analyzer's.
type RetagItem struct {
	Seq       int64
	Question  string
	Intent    string
	Text      string
	Sentiment string
	Themes    []analytics.ThemeHit
	key       rollupKey
}

// CommentsToRetag returns up to limit comments after the (seq, question)
// cursor whose analyzer version differs from version (all of them when all
// is set), in storage order so that a run can resume where it stopped.
func (s *Store) CommentsToRetag(ctx context.Context, version string, all bool, afterSeq int64, afterQ string, limit int) ([]RetagItem, error) {
	q := `SELECT a.response_seq, a.question, a.intent, a.value_text, COALESCE(a.sentiment, ''), COALESCE(a.themes, '[]'),
		r.local_day, r.site, r.department, r.provider, r.survey, r.channel
		FROM answers a JOIN responses r ON r.seq = a.response_seq
		WHERE a.qtype = 'text' AND a.value_text IS NOT NULL
		AND (a.response_seq > $1 OR (a.response_seq = $1 AND a.question > $2))`
	args := []any{afterSeq, afterQ}
	if !all {
		q += ` AND (a.analyzer_version IS NULL OR a.analyzer_version <> $3)`
		args = append(args, version)
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY a.response_seq, a.question LIMIT $%d`, len(args))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: comments to retag: %w", err)
	}
	defer rows.Close()
	var out []RetagItem
	for rows.Next() {
		var it RetagItem
		var themes string
		k := &it.key
		if err := rows.Scan(&it.Seq, &it.Question, &it.Intent, &it.Text, &it.Sentiment, &themes,
			&k.Day, &k.Site, &k.Department, &k.Provider, &k.Survey, &k.Channel); err != nil {
			return nil, fmt.Errorf("storage: scan retag: %w", err)
		}
		json.Unmarshal([]byte(themes), &it.Themes)
		out = append(out, it)
	}
	return out, rows.Err()
}

// SaveRetag stores new analyses for items in one short transaction and moves
// the rollup counts from the old tags to the new ones, so dashboards stay
// equal to the raw data.
func (s *Store) SaveRetag(ctx context.Context, items []RetagItem, results []analytics.Result) error {
	if len(items) != len(results) {
		return fmt.Errorf("storage: retag: %d items, %d results", len(items), len(results))
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: retag: %w", err)
	}
	defer tx.Rollback()
	b := newRollupBatch()
	for i, it := range items {
		res := results[i]
		themes, _ := json.Marshal(res.Themes)
		if _, err := tx.ExecContext(ctx, `UPDATE answers SET sentiment = $1, score = $2, themes = $3, analyzer_version = $4
			WHERE response_seq = $5 AND question = $6`, res.Sentiment, res.Score, string(themes), res.Version, it.Seq, it.Question); err != nil {
			return fmt.Errorf("storage: retag answer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM comment_themes WHERE response_seq = $1 AND question = $2`, it.Seq, it.Question); err != nil {
			return fmt.Errorf("storage: retag themes: %w", err)
		}
		seen := map[string]bool{}
		for _, h := range res.Themes {
			if seen[h.ID] {
				continue
			}
			seen[h.ID] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO comment_themes (response_seq, question, theme, polarity) VALUES ($1, $2, $3, $4)`,
				it.Seq, it.Question, h.ID, h.Polarity); err != nil {
				return fmt.Errorf("storage: retag theme: %w", err)
			}
		}
		b.moveComment(it.key, it.Sentiment, it.Themes, res.Sentiment, res.Themes)
	}
	if err := b.flush(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: retag commit: %w", err)
	}
	return nil
}

// moveComment records, as deltas, a comment's change of tags.
func (b *rollupBatch) moveComment(k rollupKey, oldSent string, oldThemes []analytics.ThemeHit, newSent string, newThemes []analytics.ThemeHit) {
	c := b.daily[k]
	if c == nil {
		c = &dailyCounts{}
		b.daily[k] = c
	}
	bump := func(sent string, d int64) {
		switch sent {
		case "":
			return // never tagged: it was not counted as a comment
		case "positive":
			c.Positive += d
		case "negative":
			c.Negative += d
		case "mixed":
			c.Mixed += d
		default:
			c.Neutral += d
		}
	}
	if oldSent == "" {
		c.Comments++
	}
	bump(oldSent, -1)
	bump(newSent, 1)
	b.addThemes(k, oldThemes, -1)
	b.addThemes(k, newThemes, 1)
}
