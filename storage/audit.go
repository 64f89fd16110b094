package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// AuditEntry is one line of the audit log; the application only appends.
type AuditEntry struct {
	ID     int64  `json:"id"`
	At     int64  `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Target string `json:"target"`
	Detail string `json:"detail"`
}

func (AuditEntry) TableName() string { return "audit_log" }

// Audit appends an entry; detail is marshalled to JSON.
func (s *Store) Audit(ctx context.Context, actor, action, target string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil || detail == nil {
		b = []byte("{}")
	}
	e := AuditEntry{At: ms(s.Now()), Actor: actor, Action: action, Target: target, Detail: string(b)}
	if err := s.w.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("storage: audit: %w", err)
	}
	return nil
}

// AuditLog lists entries newest first, before the id cursor (0 = newest).
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	var es []AuditEntry
	q := s.r.WithContext(ctx).Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if err := q.Find(&es).Error; err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	return es, nil
}

// AuditQuery selects audit entries, newest first.
type AuditQuery struct {
	Before int64  // id cursor: only entries older than it (0 = newest)
	Action string // exact action, or a prefix ending in "." ("export.")
	Actor  string // exact actor
	Limit  int
}

func (q AuditQuery) apply(db *gorm.DB) *gorm.DB {
	db = db.Order("id DESC")
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	if strings.HasSuffix(q.Action, ".") {
		db = db.Where(`action LIKE ? ESCAPE '\'`, strings.NewReplacer("%", `\%`, "_", `\_`).Replace(q.Action)+"%")
	} else if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	if q.Actor != "" {
		db = db.Where("actor = ?", q.Actor)
	}
	return db
}

// AuditSearch returns one page of entries for the audit view and API.
func (s *Store) AuditSearch(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var es []AuditEntry
	if err := q.apply(s.r.WithContext(ctx)).Limit(q.Limit).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("storage: audit search: %w", err)
	}
	return es, nil
}

// EachAudit calls fn with successive pages of matching entries, newest
// first, for the audit log's own CSV export.
func (s *Store) EachAudit(ctx context.Context, q AuditQuery, fn func([]AuditEntry) error) error {
	q.Limit = 1000
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		es, err := s.AuditSearch(ctx, q)
		if err != nil || len(es) == 0 {
			return err
		}
		if err := fn(es); err != nil {
			return err
		}
		if len(es) < q.Limit {
			return nil
		}
		q.Before = es[len(es)-1].ID
	}
}
