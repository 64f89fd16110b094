package storage

import (
	"context"
	"database/sql"

	"fmt"
	"strings"
	"time"
)

// Action is one "You said, we did" entry of a site.
type Action struct {
	ID          int64      `json:"id"`
	Site        string     `json:"site"`
	Lang        string     `json:"lang,omitempty"` // empty: every language
	Body        string     `json:"body"`
	CreatedAt   time.Time  `json:"created_at"`
	Author      string     `json:"author"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// Live reports whether patients see the action.
func (a *Action) Live() bool { return a.PublishedAt != nil && a.WithdrawnAt == nil }

// CreateAction stores a draft, or a published action when publish is set.
func (s *Store) CreateAction(ctx context.Context, a *Action, publish bool) error {
	now := s.Now()
	a.CreatedAt = now
	var pub any
	if publish {
		a.PublishedAt, pub = &now, ms(now)
	}
	err := s.wdb.QueryRowContext(ctx, `INSERT INTO published_actions (site, lang, body, created_at, author, published_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, a.Site, a.Lang, a.Body, ms(now), a.Author, pub).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("storage: create action: %w", err)
	}
	return nil
}

// ActionByID reads one action.
func (s *Store) ActionByID(ctx context.Context, id int64) (*Action, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+actionCols+" FROM published_actions WHERE id = $1", id)
	if err != nil {
		return nil, fmt.Errorf("storage: action: %w", err)
	}
	as, err := scanActions(rows)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("storage: action %d: %w", id, ErrNotFound)
	}
	return &as[0], nil
}

// SetActionState publishes (publish = true) or withdraws an action.
func (s *Store) SetActionState(ctx context.Context, id int64, publish bool) error {
	q := "UPDATE published_actions SET published_at = COALESCE(published_at, $1), withdrawn_at = NULL WHERE id = $2"
	if !publish {
		q = "UPDATE published_actions SET withdrawn_at = $1 WHERE id = $2"
	}
	res, err := s.wdb.ExecContext(ctx, q, ms(s.Now()), id)
	if err != nil {
		return fmt.Errorf("storage: action state: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("storage: action %d: %w", id, ErrNotFound)
	}
	return nil
}

const actionCols = "id, site, lang, body, created_at, author, published_at, withdrawn_at"

func scanActions(rows *sql.Rows) ([]Action, error) {
	defer rows.Close()
	out := []Action{}
	for rows.Next() {
		var a Action
		var created int64
		var pub, wd sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Site, &a.Lang, &a.Body, &created, &a.Author, &pub, &wd); err != nil {
			return nil, fmt.Errorf("storage: scan action: %w", err)
		}
		a.CreatedAt = time.UnixMilli(created)
		if pub.Valid {
			t := time.UnixMilli(pub.Int64)
			a.PublishedAt = &t
		}
		if wd.Valid {
			t := time.UnixMilli(wd.Int64)
			a.WithdrawnAt = &t
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Actions lists the actions of some sites (nil: all), newest first, drafts
// and withdrawn ones included: the staff view.
func (s *Store) Actions(ctx context.Context, sites []string, limit int) ([]Action, error) {
	if sites != nil && len(sites) == 0 {
		return []Action{}, nil
	}
	q := "SELECT " + actionCols + " FROM published_actions"
	var args []any
	if sites != nil {
		ph := make([]string, len(sites))
		for i, v := range sites {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		q += " WHERE site IN (" + strings.Join(ph, ", ") + ")"
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT $%d", len(args))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: actions: %w", err)
	}
	return scanActions(rows)
}

// PublishedActions returns the latest live actions of a site in lang (or
// for every language): the only actions patient pages may show.
func (s *Store) PublishedActions(ctx context.Context, site, lang string, limit int) ([]Action, error) {
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+actionCols+` FROM published_actions
		WHERE site = $1 AND (lang = '' OR lang = $2) AND published_at IS NOT NULL AND withdrawn_at IS NULL
		ORDER BY published_at DESC, id DESC LIMIT $3`, site, lang, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: published actions: %w", err)
	}
	return scanActions(rows)
}
