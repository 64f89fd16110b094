package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/carevoice/carevoice/cases"
)

// NewCase is a follow-up case opened with a response.
type NewCase struct {
	Urgent bool
	Reason string // reason codes, comma-joined, most pressing first (cases.Decide)
	DueAt  int64  // Unix ms
	// Notify asks for a new-case alert (the site's rules say so).
	Notify bool
	// ID is set by the submission once the case is stored.
	ID int64
}

const insertCaseSQL = `INSERT INTO cases (response_seq, response_id, site, status, urgent, reasons,
		opened_at, opened_month, due_at, updated_at) VALUES ($1, $2, $3, 'new', $4, $5, $6, $7, $8, $6) RETURNING id`

// caseMonth is the month ('YYYY-MM') a case opened in, in the site's time zone.
func caseMonth(r *NewResponse) string {
	return r.LocalDay[:min(7, len(r.LocalDay))]
}

// insertCase runs inside the submission's transaction.
func (w *groupWriter) insertCase(ctx context.Context, tx *sql.Tx, seq int64, r *NewResponse) error {
	now := ms(r.SubmittedAt)
	err := tx.StmtContext(ctx, w.insCase).QueryRowContext(ctx, seq, r.ID, r.Site, boolInt(r.Case.Urgent), r.Case.Reason, now, caseMonth(r), r.Case.DueAt).Scan(&r.Case.ID)
	if err != nil {
		return fmt.Errorf("storage: insert case: %w", err)
	}
	return nil
}

// Case is a follow-up case as staff see it.
type Case struct {
	ID          int64      `json:"id"`
	ResponseID  string     `json:"response_id"`
	Site        string     `json:"site"`
	Status      string     `json:"status"`
	Urgent      bool       `json:"urgent"`
	Reasons     []string   `json:"reasons"`
	Assignee    string     `json:"assignee"`
	OpenedAt    time.Time  `json:"opened_at"`
	DueAt       time.Time  `json:"due_at"`
	ContactedAt *time.Time `json:"contacted_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	CloseReason string     `json:"close_reason,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Notes       []CaseNote `json:"notes,omitempty"`
}

// Reason is the most pressing reason the case opened.
func (c *Case) Reason() string {
	if len(c.Reasons) == 0 {
		return ""
	}
	return c.Reasons[0]
}

// CaseNote is one note on a case.
type CaseNote struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Body   string    `json:"body"`
}

// CaseFilter selects cases for a queue.
type CaseFilter struct {
	Sites    []string // nil: every site
	Statuses []string // nil: every status
	Urgent   bool     // only urgent cases
	Assignee string
	Limit    int
}

const caseCols = `id, response_id, site, status, urgent, reasons, assignee, opened_at, due_at, contacted_at,
	closed_at, close_reason, outcome, updated_at`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var urgent int
	var reasons string
	var opened, due, updated int64
	var contacted, closed sql.NullInt64
	if err := row.Scan(&c.ID, &c.ResponseID, &c.Site, &c.Status, &urgent, &reasons, &c.Assignee, &opened, &due,
		&contacted, &closed, &c.CloseReason, &c.Outcome, &updated); err != nil {
		return c, err
	}
	c.Urgent, c.Reasons = urgent == 1, SplitList(reasons)
	c.OpenedAt, c.DueAt, c.UpdatedAt = time.UnixMilli(opened), time.UnixMilli(due), time.UnixMilli(updated)
	if contacted.Valid {
		t := time.UnixMilli(contacted.Int64)
		c.ContactedAt = &t
	}
	if closed.Valid {
		t := time.UnixMilli(closed.Int64)
		c.ClosedAt = &t
	}
	return c, nil
}

// Cases lists cases sorted by due time (soonest, so most overdue, first).
func (s *Store) Cases(ctx context.Context, f CaseFilter) ([]Case, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(col string, vals []string) {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		where = append(where, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	if f.Sites != nil {
		if len(f.Sites) == 0 {
			return []Case{}, nil
		}
		in("site", f.Sites)
	}
	if len(f.Statuses) > 0 {
		in("status", f.Statuses)
	}
	if f.Urgent {
		where = append(where, "urgent = 1")
	}
	if f.Assignee != "" {
		where = append(where, "assignee = "+arg(f.Assignee))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 500
	}
	q := "SELECT " + caseCols + " FROM cases"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY due_at, id LIMIT " + arg(f.Limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: cases: %w", err)
	}
	defer rows.Close()
	out := []Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: scan case: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CaseByID reads one case with its notes, oldest note first.
func (s *Store) CaseByID(ctx context.Context, id int64) (*Case, error) {
	c, err := scanCase(s.rdb.QueryRowContext(ctx, "SELECT "+caseCols+" FROM cases WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: case %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: case: %w", err)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT at, author, body FROM case_notes WHERE case_id = $1 ORDER BY at, id", id)
	if err != nil {
		return nil, fmt.Errorf("storage: case notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n CaseNote
		var at int64
		if err := rows.Scan(&at, &n.Author, &n.Body); err != nil {
			return nil, fmt.Errorf("storage: case note: %w", err)
		}
		n.At = time.UnixMilli(at)
		c.Notes = append(c.Notes, n)
	}
	return &c, rows.Err()
}

// CaseUpdate is one change to a case. Empty fields change nothing.
type CaseUpdate struct {
	// FromStatus is the status the caller saw: the update fails with
	// ErrConflict if someone else moved the case meanwhile.
	FromStatus  string
	Status      string
	Assignee    *string
	Outcome     string
	CloseReason string
	Note        string
	Actor       string
	At          time.Time // when; zero means now
}

// UpdateCase applies u in one transaction and returns the case as it is now.
// Moving to contacted the first time stamps the first contact; resolved and
// closed stamp the closing time; a reopen clears it.
func (s *Store) UpdateCase(ctx context.Context, id int64, u CaseUpdate) (*Case, error) {
	at := u.At
	if at.IsZero() {
		at = s.Now()
	}
	now := ms(at)
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: update case: %w", err)
	}
	defer tx.Rollback()
	sets := []string{"updated_at = $1"}
	args := []any{now}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if u.Status != "" && u.Status != u.FromStatus {
		sets = append(sets, "status = "+arg(u.Status))
		switch u.Status {
		case cases.StatusContacted:
			sets = append(sets, "contacted_at = COALESCE(contacted_at, $1)", "closed_at = NULL", "close_reason = ''")
		case cases.StatusResolved:
			sets = append(sets, "closed_at = $1")
		case cases.StatusClosed:
			sets = append(sets, "closed_at = $1", "close_reason = "+arg(u.CloseReason))
		case cases.StatusNew:
			sets = append(sets, "closed_at = NULL", "close_reason = ''")
		}
	}
	if u.Outcome != "" {
		sets = append(sets, "outcome = "+arg(u.Outcome))
	}
	if u.Assignee != nil {
		sets = append(sets, "assignee = "+arg(*u.Assignee))
	}
	q := "UPDATE cases SET " + strings.Join(sets, ", ") + " WHERE id = " + arg(id)
	if u.FromStatus != "" {
		q += " AND status = " + arg(u.FromStatus)
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: update case: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM cases WHERE id = $1", id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("storage: case %d: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("storage: case %d changed meanwhile: %w", id, ErrConflict)
	}
	if u.Note != "" {
		if _, err := tx.ExecContext(ctx, "INSERT INTO case_notes (case_id, at, author, body) VALUES ($1, $2, $3, $4)",
			id, now, u.Actor, u.Note); err != nil {
			return nil, fmt.Errorf("storage: add case note: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("storage: update case: %w", err)
	}
	return s.CaseByID(ctx, id)
}

// CaseContact returns the sealed contact details of a case's response (nil
// when the patient left none) and the response id they are bound to.
func (s *Store) CaseContact(ctx context.Context, id int64) ([]byte, string, error) {
	var sealed []byte
	var rid string
	err := s.rdb.QueryRowContext(ctx, `SELECT c.response_id, ct.sealed FROM cases c
		LEFT JOIN contacts ct ON ct.response_seq = c.response_seq WHERE c.id = $1`, id).Scan(&rid, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("storage: case %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("storage: case contact: %w", err)
	}
	return sealed, rid, nil
}

// CaseRules returns a site's case rules, the defaults when none are saved.
func (s *Store) CaseRules(ctx context.Context, site string) (cases.Rules, error) {
	r := cases.DefaultRules()
	var fft, nps, ign, alert int
	var days, closed string
	err := s.rdb.QueryRowContext(ctx, `SELECT fft_poor, nps_detractor, ignored_dismissed, alert_new, due_working_days,
		working_days, closed_days FROM case_rules WHERE site = $1`, site).Scan(&fft, &nps, &ign, &alert, &r.DueWorkingDays, &days, &closed)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("storage: case rules: %w", err)
	}
	r.FFTPoor, r.NPSDetractor, r.IgnoredDismissed, r.AlertNew = fft == 1, nps == 1, ign == 1, alert == 1
	if r.WorkingDays, err = cases.ParseDays(days); err != nil {
		return cases.DefaultRules(), fmt.Errorf("storage: case rules of %s: %w", site, err)
	}
	if r.ClosedDays, err = cases.ParseClosedDays(closed); err != nil {
		return cases.DefaultRules(), fmt.Errorf("storage: case rules of %s: %w", site, err)
	}
	return r, nil
}

// SaveCaseRules stores a site's case rules and returns how many of its cases
// still waiting for first contact it rescheduled. Those are due by the rules
// as they now stand: a bank holiday closed today moves the cases due on it,
// as a new working week or a longer deadline does. Cases already contacted or
// closed keep the due time they were judged by.
func (s *Store) SaveCaseRules(ctx context.Context, site string, r cases.Rules, actor string) (int, error) {
	st, err := s.Site(ctx, site)
	if err != nil {
		return 0, err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("storage: save case rules: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO case_rules (site, fft_poor, nps_detractor, ignored_dismissed, alert_new,
		due_working_days, working_days, closed_days, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (site) DO UPDATE SET fft_poor = excluded.fft_poor, nps_detractor = excluded.nps_detractor,
		ignored_dismissed = excluded.ignored_dismissed, alert_new = excluded.alert_new,
		due_working_days = excluded.due_working_days, working_days = excluded.working_days,
		closed_days = excluded.closed_days, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		site, boolInt(r.FFTPoor), boolInt(r.NPSDetractor), boolInt(r.IgnoredDismissed), boolInt(r.AlertNew),
		r.DueWorkingDays, cases.FormatDays(r.WorkingDays), cases.FormatClosedDays(r.ClosedDays), ms(s.Now()), actor)
	if err != nil {
		return 0, fmt.Errorf("storage: save case rules: %w", err)
	}
	moved, err := rescheduleCases(ctx, tx, site, st.Location(), r)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("storage: save case rules: %w", err)
	}
	return moved, nil
}

// rescheduleCases gives a site's cases waiting for first contact the due
// time r gives them.
func rescheduleCases(ctx context.Context, tx *sql.Tx, site string, loc *time.Location, r cases.Rules) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, opened_at, due_at FROM cases WHERE site = $1 AND status = $2`, site, cases.StatusNew)
	if err != nil {
		return 0, fmt.Errorf("storage: open cases of %s: %w", site, err)
	}
	type due struct{ id, at int64 }
	var changed []due
	for rows.Next() {
		var id, opened, old int64
		if err := rows.Scan(&id, &opened, &old); err != nil {
			rows.Close()
			return 0, fmt.Errorf("storage: open cases of %s: %w", site, err)
		}
		if at := ms(cases.DueAt(time.UnixMilli(opened), loc, r)); at != old {
			changed = append(changed, due{id, at})
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("storage: open cases of %s: %w", site, err)
	}
	for _, c := range changed {
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET due_at = $1 WHERE id = $2`, c.at, c.id); err != nil {
			return 0, fmt.Errorf("storage: reschedule case %d: %w", c.id, err)
		}
	}
	return len(changed), nil
}
