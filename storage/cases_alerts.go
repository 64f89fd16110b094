package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Delivery is one alert message to one recipient in the outbox.
type Delivery struct {
	ID        int64     `json:"id"`
	Dedupe    string    `json:"-"`
	Kind      string    `json:"kind"`
	Channel   string    `json:"channel"` // email | webhook
	Target    string    `json:"target"`  // an address or a webhook URL
	Subject   string    `json:"subject"`
	Payload   string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"` // pending | sent | failed
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at"`
	LastError string    `json:"last_error,omitempty"`
}

// DeliveryAttempt is one logged try.
type DeliveryAttempt struct {
	At         time.Time `json:"at"`
	OK         bool      `json:"ok"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	Duration   time.Duration
}

// AddDelivery puts a message in the outbox unless one with the same dedupe
// key is there already; it reports whether it added it.
func (s *Store) AddDelivery(ctx context.Context, d *Delivery) (bool, error) {
	now := s.Now()
	if d.NextAt.IsZero() {
		d.NextAt = now
	}
	d.CreatedAt, d.Status = now, "pending"
	err := s.wdb.QueryRowContext(ctx, `INSERT INTO alert_deliveries (dedupe, kind, channel, target, subject, payload,
		created_at, status, attempts, next_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8)
		ON CONFLICT (dedupe) DO NOTHING RETURNING id`,
		d.Dedupe, d.Kind, d.Channel, d.Target, d.Subject, d.Payload, ms(now), ms(d.NextAt)).Scan(&d.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: add delivery: %w", err)
	}
	return true, nil
}

const deliveryCols = "id, dedupe, kind, channel, target, subject, payload, created_at, status, attempts, next_at, last_error"

func scanDeliveries(rows *sql.Rows) ([]Delivery, error) {
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var created, next int64
		if err := rows.Scan(&d.ID, &d.Dedupe, &d.Kind, &d.Channel, &d.Target, &d.Subject, &d.Payload, &created,
			&d.Status, &d.Attempts, &next, &d.LastError); err != nil {
			return nil, fmt.Errorf("storage: scan delivery: %w", err)
		}
		d.CreatedAt, d.NextAt = time.UnixMilli(created), time.UnixMilli(next)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ClaimDeliveries takes up to limit pending deliveries that are due and
// leases them: their next try moves lease ahead, so that another sweep (or
// instance) skips them, and a crash mid-send only delays them.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	rows, err := s.wdb.QueryContext(ctx, "SELECT "+deliveryCols+` FROM alert_deliveries
		WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("storage: due deliveries: %w", err)
	}
	due, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	for _, d := range due {
		res, err := s.wdb.ExecContext(ctx, `UPDATE alert_deliveries SET next_at = $1
			WHERE id = $2 AND status = 'pending' AND next_at = $3`, ms(now.Add(lease)), d.ID, ms(d.NextAt))
		if err != nil {
			return out, fmt.Errorf("storage: claim delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, d)
		}
	}
	return out, nil
}

// RecordAttempt logs one try and sets the delivery's new state: status
// "sent", "failed" (given up) or "pending" with the next try at next.
func (s *Store) RecordAttempt(ctx context.Context, id int64, a DeliveryAttempt, status string, next time.Time) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: record attempt: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_attempts (delivery_id, at, ok, status_code, error, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, ms(a.At), boolInt(a.OK), a.StatusCode, a.Error, a.Duration.Milliseconds()); err != nil {
		return fmt.Errorf("storage: record attempt: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET attempts = attempts + 1, status = $1, next_at = $2,
		last_error = $3 WHERE id = $4`, status, ms(next), a.Error, id); err != nil {
		return fmt.Errorf("storage: record attempt: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: record attempt: %w", err)
	}
	return nil
}

// Deliveries lists the outbox, newest first; kind filters when not empty.
func (s *Store) Deliveries(ctx context.Context, kind string, limit int) ([]Delivery, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+deliveryCols+` FROM alert_deliveries
		WHERE ($1 = '' OR kind = $1) ORDER BY id DESC LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// DeliveryAttempts lists the logged tries of a delivery, oldest first.
func (s *Store) DeliveryAttempts(ctx context.Context, id int64) ([]DeliveryAttempt, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT at, ok, status_code, error, duration_ms FROM alert_attempts
		WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("storage: delivery attempts: %w", err)
	}
	defer rows.Close()
	var out []DeliveryAttempt
	for rows.Next() {
		var a DeliveryAttempt
		var at, dur int64
		var ok int
		if err := rows.Scan(&at, &ok, &a.StatusCode, &a.Error, &dur); err != nil {
			return nil, fmt.Errorf("storage: scan attempt: %w", err)
		}
		a.At, a.OK, a.Duration = time.UnixMilli(at), ok == 1, time.Duration(dur)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// Recipient is a staff account that receives alerts.
type Recipient struct {
	Email string
	Role  string
	Sites []string // a manager's sites; nil for an admin: every site
}

// AlertRecipients lists enabled managers of site (of any site when site is
// empty), and admins too when withAdmins is set. A manager without sites
// (an account from before sites were required) is nobody's recipient: an
// empty list once meant every site, and must not send one site's patients'
// details to every manager.
func (s *Store) AlertRecipients(ctx context.Context, site string, withAdmins bool) ([]Recipient, error) {
	users, err := s.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: alert recipients: %w", err)
	}
	var out []Recipient
	for _, u := range users {
		if u.Disabled || !strings.Contains(u.Email, "@") {
			continue
		}
		sites := u.SiteList()
		switch {
		case u.Role == RoleManager && len(sites) > 0 && (site == "" || slices.Contains(sites, site)):
		case u.Role == RoleAdmin && withAdmins:
			sites = nil
		default:
			continue
		}
		out = append(out, Recipient{Email: u.Email, Role: u.Role, Sites: sites})
	}
	return out, nil
}

// CaseCounts is what a daily digest reports for some sites.
type CaseCounts struct {
	New     int // opened in the last day
	DueSoon int // waiting for first contact, due within the next day
	Overdue int // waiting for first contact, past due
	Urgent  int // urgent and still open
}

// CaseDigest counts cases for a digest at now.
func (s *Store) CaseDigest(ctx context.Context, sites []string, now time.Time) (CaseCounts, error) {
	var c CaseCounts
	q := `SELECT
		COALESCE(SUM(CASE WHEN opened_at > $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'new' AND due_at > $2 AND due_at <= $3 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'new' AND due_at <= $2 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN urgent = 1 AND status IN ('new', 'contacted') THEN 1 ELSE 0 END), 0)
		FROM cases`
	args := []any{ms(now.Add(-24 * time.Hour)), ms(now), ms(now.Add(24 * time.Hour))}
	if sites != nil {
		if len(sites) == 0 {
			return c, nil
		}
		ph := make([]string, len(sites))
		for i, v := range sites {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += " WHERE site IN (" + strings.Join(ph, ", ") + ")"
	}
	if err := s.rdb.QueryRowContext(ctx, q, args...).Scan(&c.New, &c.DueSoon, &c.Overdue, &c.Urgent); err != nil {
		return c, fmt.Errorf("storage: case digest: %w", err)
	}
	return c, nil
}

// ComplaintDays returns, for one site and the local days from..to
// (inclusive, 'YYYY-MM-DD'), the comments stored each day and the
// complaints (negative mentions) of each theme each day, from the rollups.
func (s *Store) ComplaintDays(ctx context.Context, site, from, to string) (comments map[string]int, complaints map[string]map[string]int, err error) {
	comments, complaints = map[string]int{}, map[string]map[string]int{}
	rows, err := s.rdb.QueryContext(ctx, `SELECT day, SUM(comments) FROM rollup_daily
		WHERE site = $1 AND day >= $2 AND day <= $3 GROUP BY day`, site, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: complaint days: %w", err)
	}
	for rows.Next() {
		var day string
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("storage: complaint days: %w", err)
		}
		comments[day] = n
	}
	rows.Close()
	// Complaints: the negative counter of each theme.
	sums := make([]string, len(negativeThemeCols))
	for j, i := range negativeThemeCols {
		sums[j] = "SUM(" + themeColumns[i] + ")"
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT day, `+strings.Join(sums, ", ")+` FROM rollup_themes
		WHERE site = $1 AND day >= $2 AND day <= $3 GROUP BY day`, site, from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: complaint days: %w", err)
	}
	defer rows.Close()
	var day string
	n := make([]int64, len(negativeThemeCols))
	dest := []any{&day}
	for j := range n {
		dest = append(dest, &n[j])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("storage: complaint days: %w", err)
		}
		for j, i := range negativeThemeCols {
			if n[j] == 0 {
				continue
			}
			theme, _ := themeOfCol(i)
			if complaints[theme] == nil {
				complaints[theme] = map[string]int{}
			}
			complaints[theme][day] = int(n[j])
		}
	}
	return comments, complaints, rows.Err()
}
