package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/carevoice/carevoice/secure"
)

// throttleRow is one key of the login throttle (migration 0005).
type throttleRow struct {
	Key         string `gorm:"primaryKey"`
	Failures    int
	WindowStart int64
	LockedUntil int64
}

func (throttleRow) TableName() string { return "login_throttle" }

// ThrottleStore keeps the login throttle in the database, so that every
// instance sharing it enforces one limit and an admin's clear reaches them
// all. It implements secure.ThrottleStore.
type ThrottleStore struct{ s *Store }

// ThrottleStore returns the database-backed login throttle store.
func (s *Store) ThrottleStore() *ThrottleStore { return &ThrottleStore{s} }

var _ secure.ThrottleStore = (*ThrottleStore)(nil)

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (r throttleRow) state() secure.ThrottleState {
	return secure.ThrottleState{Failures: r.Failures, WindowStart: fromMS(r.WindowStart), LockedUntil: fromMS(r.LockedUntil)}
}

// Get returns the state of key, or the zero state.
func (t *ThrottleStore) Get(ctx context.Context, key string) (secure.ThrottleState, error) {
	var r throttleRow
	err := t.s.r.WithContext(ctx).First(&r, "key = ?", key).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return secure.ThrottleState{}, nil
	}
	if err != nil {
		return secure.ThrottleState{}, fmt.Errorf("storage: throttle get: %w", err)
	}
	return r.state(), nil
}

// Update changes the state of key in one transaction. On PostgreSQL the row
// is created if missing and then locked (FOR UPDATE), so parallel failures
// on several instances each see the count the previous one left; SQLite has
// a single writer and immediate transactions, which serialise the same way.
func (t *ThrottleStore) Update(ctx context.Context, key string, fn func(*secure.ThrottleState)) (secure.ThrottleState, error) {
	var out secure.ThrottleState
	err := t.s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO login_throttle (key) VALUES (?) ON CONFLICT (key) DO NOTHING", key).Error; err != nil {
			return err
		}
		q := "SELECT key, failures, window_start, locked_until FROM login_throttle WHERE key = ?"
		if t.s.dialect == "postgres" {
			q += " FOR UPDATE"
		}
		var r throttleRow
		if err := tx.Raw(q, key).Scan(&r).Error; err != nil {
			return err
		}
		st := r.state()
		fn(&st)
		out = st
		if st == (secure.ThrottleState{}) {
			return tx.Exec("DELETE FROM login_throttle WHERE key = ?", key).Error
		}
		return tx.Exec("UPDATE login_throttle SET failures = ?, window_start = ?, locked_until = ? WHERE key = ?",
			st.Failures, toMS(st.WindowStart), toMS(st.LockedUntil), key).Error
	})
	if err != nil {
		return secure.ThrottleState{}, fmt.Errorf("storage: throttle update: %w", err)
	}
	return out, nil
}

// Delete forgets key.
func (t *ThrottleStore) Delete(ctx context.Context, key string) error {
	if err := t.s.w.WithContext(ctx).Exec("DELETE FROM login_throttle WHERE key = ?", key).Error; err != nil {
		return fmt.Errorf("storage: throttle delete: %w", err)
	}
	return nil
}

// Lock is a sign-in lock in force, for the admin page.
type Lock struct {
	Kind  string // "account" or "ip"
	Value string // the email or the address
	Until time.Time
}

// Locks lists the locks in force at now.
func (s *Store) Locks(ctx context.Context, now time.Time) ([]Lock, error) {
	var rows []throttleRow
	if err := s.r.WithContext(ctx).Where("locked_until > ?", ms(now)).Order("locked_until DESC").Limit(500).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: locks: %w", err)
	}
	out := make([]Lock, 0, len(rows))
	for _, r := range rows {
		kind, v, _ := strings.Cut(r.Key, ":")
		if kind == "acct" {
			kind = "account"
		}
		out = append(out, Lock{Kind: kind, Value: v, Until: time.UnixMilli(r.LockedUntil)})
	}
	return out, nil
}

// PruneThrottle drops throttle rows that no longer matter: not locked at now
// and with no failure since before (the end of the longest window).
func (s *Store) PruneThrottle(ctx context.Context, now, before time.Time) (int64, error) {
	res := s.w.WithContext(ctx).Exec("DELETE FROM login_throttle WHERE locked_until <= ? AND window_start < ?", ms(now), ms(before))
	if res.Error != nil {
		return 0, fmt.Errorf("storage: prune throttle: %w", res.Error)
	}
	return res.RowsAffected, nil
}
