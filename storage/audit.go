package storage

import (
	"context"
	"encoding/json"
	"fmt"
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
