package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/carevoice/carevoice/cases"
)

// CaseReportCases returns the cases opened in local months from..to
// ('YYYY-MM', inclusive) at some sites (nil: all), for cases.Report.
func (s *Store) CaseReportCases(ctx context.Context, sites []string, from, to string) ([]cases.ReportCase, error) {
	out := []cases.ReportCase{}
	if sites != nil && len(sites) == 0 {
		return out, nil
	}
	q := `SELECT site, opened_month, urgent, status, opened_at, due_at, contacted_at, outcome, close_reason
		FROM cases WHERE opened_month >= $1 AND opened_month <= $2`
	args := []any{from, to}
	if sites != nil {
		ph := make([]string, len(sites))
		for i, v := range sites {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += " AND site IN (" + strings.Join(ph, ", ") + ")"
	}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: case report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c cases.ReportCase
		var urgent int
		var opened, due int64
		var contacted sql.NullInt64
		if err := rows.Scan(&c.Site, &c.Month, &urgent, &c.Status, &opened, &due, &contacted, &c.Outcome, &c.CloseReason); err != nil {
			return nil, fmt.Errorf("storage: case report: %w", err)
		}
		c.Urgent, c.OpenedAt, c.DueAt = urgent == 1, time.UnixMilli(opened), time.UnixMilli(due)
		if contacted.Valid {
			t := time.UnixMilli(contacted.Int64)
			c.ContactedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaseCandidate is a stored response seen through the case rules (for the
// demo, which opens cases for responses stored before it ran).
type CaseCandidate struct {
	ID, Site     string
	SubmittedAt  time.Time
	LocalDay     string
	WantsContact bool
	HasContact   bool
	FFT, NPS     *int
	Negative     bool     // a negative comment
	Themes       []string // complaint themes mentioned
}

// CaseCandidates lists responses submitted since, without a case, that
// asked for contact, rated FFT 4–5, gave NPS 0–6 or have a complaint theme.
func (s *Store) CaseCandidates(ctx context.Context, since time.Time) ([]CaseCandidate, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT r.id, r.site, r.submitted_at, r.local_day, r.wants_contact,
		EXISTS (SELECT 1 FROM contacts c WHERE c.response_seq = r.seq), r.fft, r.nps,
		EXISTS (SELECT 1 FROM answers a WHERE a.response_seq = r.seq AND a.sentiment = 'negative'),
		COALESCE((SELECT STRING_AGG(t.theme, ',') FROM comment_themes t WHERE t.response_seq = r.seq AND t.polarity <> 'positive'), '')
		FROM responses r
		WHERE r.submitted_at >= $1 AND NOT EXISTS (SELECT 1 FROM cases k WHERE k.response_seq = r.seq)
		  AND (r.wants_contact = 1 OR r.fft IN (4, 5) OR r.nps <= 6
		       OR EXISTS (SELECT 1 FROM comment_themes t WHERE t.response_seq = r.seq AND t.theme IN ('ignored', 'dismissed')))
		ORDER BY r.submitted_at`, ms(since))
	if err != nil {
		return nil, fmt.Errorf("storage: case candidates: %w", err)
	}
	defer rows.Close()
	var out []CaseCandidate
	for rows.Next() {
		var c CaseCandidate
		var at int64
		var wants int
		var fft, nps sql.NullInt64
		var themes string
		if err := rows.Scan(&c.ID, &c.Site, &at, &c.LocalDay, &wants, &c.HasContact, &fft, &nps, &c.Negative, &themes); err != nil {
			return nil, fmt.Errorf("storage: case candidates: %w", err)
		}
		c.SubmittedAt, c.WantsContact = time.UnixMilli(at), wants == 1
		for _, t := range SplitList(themes) {
			if !slices.Contains(c.Themes, t) {
				c.Themes = append(c.Themes, t)
			}
		}
		if fft.Valid {
			v := int(fft.Int64)
			c.FFT = &v
		}
		if nps.Valid {
			v := int(nps.Int64)
			c.NPS = &v
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ImportedCase is a case with its whole history, for the demo.
type ImportedCase struct {
	ResponseID  string
	NewCase     NewCase
	Status      string
	Assignee    string
	OpenedAt    time.Time
	Month       string
	ContactedAt *time.Time
	ClosedAt    *time.Time
	Outcome     string
	CloseReason string
	Notes       []CaseNote
}

// ImportCases stores finished or half-finished cases in one transaction;
// a response that has a case already is skipped.
func (s *Store) ImportCases(ctx context.Context, cs []ImportedCase) (int, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("storage: import cases: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, c := range cs {
		var seq, id int64
		var site string
		var has bool
		err := tx.QueryRowContext(ctx, `SELECT seq, site, EXISTS (SELECT 1 FROM cases k WHERE k.response_seq = r.seq)
			FROM responses r WHERE r.id = $1`, c.ResponseID).Scan(&seq, &site, &has)
		if errors.Is(err, sql.ErrNoRows) || has {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("storage: import case: %w", err)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO cases (response_seq, response_id, site, status, urgent, reasons,
			assignee, opened_at, opened_month, due_at, contacted_at, closed_at, close_reason, outcome, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $8) RETURNING id`,
			seq, c.ResponseID, site, c.Status, boolInt(c.NewCase.Urgent), c.NewCase.Reason, c.Assignee, ms(c.OpenedAt), c.Month,
			c.NewCase.DueAt, nullTime(c.ContactedAt), nullTime(c.ClosedAt), c.CloseReason, c.Outcome).Scan(&id)
		if err != nil {
			return n, fmt.Errorf("storage: import case: %w", err)
		}
		for _, note := range c.Notes {
			if _, err := tx.ExecContext(ctx, "INSERT INTO case_notes (case_id, at, author, body) VALUES ($1, $2, $3, $4)",
				id, ms(note.At), note.Author, note.Body); err != nil {
				return n, fmt.Errorf("storage: import case note: %w", err)
			}
		}
		n++
	}
	if err := tx.Commit(); err != nil {
		return n, fmt.Errorf("storage: import cases: %w", err)
	}
	return n, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}
