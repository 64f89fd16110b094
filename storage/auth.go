package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is a signed-in browser; the cookie holds a random id and the
// database only its hash, so a stolen database cannot sign anyone in.
type Session struct {
	IDHash     string `gorm:"primaryKey"`
	UserID     int64
	CreatedAt  int64
	LastSeenAt int64
}

// CreateSession stores a new session for a user.
func (s *Store) CreateSession(ctx context.Context, idHash string, userID int64) error {
	now := ms(s.Now())
	if err := s.w.WithContext(ctx).Create(&Session{IDHash: idHash, UserID: userID, CreatedAt: now, LastSeenAt: now}).Error; err != nil {
		return fmt.Errorf("storage: create session: %w", err)
	}
	return nil
}

// SessionUser returns the session's user when the session is still valid
// (idle less than idle, younger than absolute) and marks it seen.
func (s *Store) SessionUser(ctx context.Context, idHash string, idle, absolute time.Duration) (*User, *Session, error) {
	var sess Session
	err := s.r.WithContext(ctx).First(&sess, "id_hash = ?", idHash).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("storage: session: %w", err)
	}
	now := s.Now()
	if now.Sub(time.UnixMilli(sess.LastSeenAt)) > idle || now.Sub(time.UnixMilli(sess.CreatedAt)) > absolute {
		s.DeleteSession(ctx, idHash)
		return nil, nil, ErrNotFound
	}
	u, err := s.UserByID(ctx, sess.UserID)
	if err != nil || u.Disabled {
		return nil, nil, ErrNotFound
	}
	// Touch at most once a minute: a write per page view would queue
	// behind submissions on SQLite's single writer.
	if now.Sub(time.UnixMilli(sess.LastSeenAt)) > time.Minute {
		s.w.WithContext(ctx).Model(&Session{}).Where("id_hash = ?", idHash).Update("last_seen_at", ms(now))
	}
	return u, &sess, nil
}

// DeleteSession signs a session out.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.w.WithContext(ctx).Delete(&Session{}, "id_hash = ?", idHash).Error
}

// DeleteUserSessions ends every session of a user except keep (a hash, may be "").
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	return s.w.WithContext(ctx).Where("user_id = ? AND id_hash <> ?", userID, keep).Delete(&Session{}).Error
}

// APIToken is a bearer token for scripts, scoped to a role and, for a
// manager, to sites.
type APIToken struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	TokenHash string `json:"-"`
	Role      string `json:"role"`
	Sites     string `json:"sites"` // comma-separated site slugs a manager token may see
	CreatedBy *int64 `json:"created_by"`
	CreatedAt int64  `json:"created_at"`
	ExpiresAt int64  `json:"expires_at"`
	RevokedAt *int64 `json:"revoked_at"`
}

// SiteList returns the sites a manager token is limited to.
func (t *APIToken) SiteList() []string { return SplitList(t.Sites) }

// CreateAPIToken stores a token's hash.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	t.CreatedAt = ms(s.Now())
	if err := s.w.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("storage: create token: %w", err)
	}
	return nil
}

// APITokenByHash returns a live (unexpired, unrevoked) token.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	var t APIToken
	err := s.r.WithContext(ctx).First(&t, "token_hash = ? AND revoked_at IS NULL AND expires_at > ?", hash, ms(s.Now())).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: token: %w", err)
	}
	return &t, nil
}

// Device is a registered kiosk tablet.
type Device struct {
	ID        string `json:"id"`
	Site      string `json:"site"`
	Name      string `json:"name"`
	KeyHash   string `json:"-"`
	CreatedAt int64  `json:"created_at"`
	RevokedAt *int64 `json:"revoked_at,omitempty"`
}

// CreateDevice registers a kiosk.
func (s *Store) CreateDevice(ctx context.Context, d *Device) error {
	d.CreatedAt = ms(s.Now())
	if err := s.w.WithContext(ctx).Create(d).Error; err != nil {
		return fmt.Errorf("storage: create device: %w", err)
	}
	return nil
}

// DeviceByKeyHash returns a kiosk that has not been revoked.
func (s *Store) DeviceByKeyHash(ctx context.Context, hash string) (*Device, error) {
	var d Device
	err := s.r.WithContext(ctx).First(&d, "key_hash = ? AND revoked_at IS NULL", hash).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: device: %w", err)
	}
	return &d, nil
}

// RevokeDevice stops a kiosk key from working.
func (s *Store) RevokeDevice(ctx context.Context, id string) error {
	res := s.w.WithContext(ctx).Model(&Device{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", ms(s.Now()))
	if res.Error != nil {
		return fmt.Errorf("storage: revoke device: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Invitation is a single-use survey link.
type Invitation struct {
	ID         int64
	TokenHash  string
	Survey     string
	Site       string
	Department string
	Provider   string
	VisitDate  string
	CreatedAt  int64
	ExpiresAt  int64
	UsedAt     *int64
	ResponseID *string
	CreatedBy  string
}

// Usable reports whether the invitation can still be answered.
func (i *Invitation) Usable(now time.Time) bool {
	return i.UsedAt == nil && now.UnixMilli() < i.ExpiresAt
}

// CreateInvitations stores invitations in one transaction.
func (s *Store) CreateInvitations(ctx context.Context, invs []Invitation) error {
	now := ms(s.Now())
	for i := range invs {
		invs[i].CreatedAt = now
	}
	if err := s.w.WithContext(ctx).Create(&invs).Error; err != nil {
		return fmt.Errorf("storage: create invitations: %w", err)
	}
	return nil
}

// InvitationByHash returns an invitation whatever its state.
func (s *Store) InvitationByHash(ctx context.Context, hash string) (*Invitation, error) {
	var inv Invitation
	err := s.r.WithContext(ctx).First(&inv, "token_hash = ?", hash).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: invitation: %w", err)
	}
	return &inv, nil
}
