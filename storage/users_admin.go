package storage

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// UserChange is what an admin may change about an account. Nil fields stay
// as they are.
type UserChange struct {
	Role     *string
	Sites    *string
	Disabled *bool
}

// UpdateUser applies an admin's change to an account. Disabling an account
// also ends its sessions in the same transaction, so a disabled user is out
// at once rather than at the next page view.
func (s *Store) UpdateUser(ctx context.Context, id int64, ch UserChange) (*User, error) {
	var u User
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&u, "id = ?", id).Error; err != nil {
			return err
		}
		set := map[string]any{}
		if ch.Role != nil {
			if !ValidRole(*ch.Role) {
				return fmt.Errorf("role %q: %w", *ch.Role, ErrInvalid)
			}
			set["role"], u.Role = *ch.Role, *ch.Role
		}
		if ch.Sites != nil {
			set["sites"], u.Sites = *ch.Sites, *ch.Sites
		}
		if ch.Disabled != nil {
			set["disabled"], u.Disabled = *ch.Disabled, *ch.Disabled
		}
		if len(set) > 0 {
			if err := tx.Model(&User{}).Where("id = ?", id).Updates(set).Error; err != nil {
				return err
			}
		}
		if u.Disabled {
			return tx.Where("user_id = ?", id).Delete(&Session{}).Error
		}
		return nil
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: update user %d: %w", id, err)
	}
	return &u, nil
}

// SetPassword stores a new password hash and ends every session of the
// account except keep (the session that made the change; "" ends all), so
// whoever knew the old password is signed out everywhere.
func (s *Store) SetPassword(ctx context.Context, id int64, hash, keep string) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", id).Updates(map[string]any{"password_hash": hash, "password_at": ms(s.Now())})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Where("user_id = ? AND id_hash <> ?", id, keep).Delete(&Session{}).Error
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("storage: set password: %w", err)
	}
	return nil
}

// CountSessions returns how many live session rows an account has (for
// tests and the admin users page).
func (s *Store) CountSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	if err := s.r.WithContext(ctx).Model(&Session{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count sessions: %w", err)
	}
	return n, nil
}

// Devices lists kiosks, newest first, revoked ones included so an admin can
// see what was turned off and when.
func (s *Store) Devices(ctx context.Context) ([]Device, error) {
	var ds []Device
	if err := s.r.WithContext(ctx).Order("created_at DESC").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("storage: devices: %w", err)
	}
	return ds, nil
}

// APITokens lists bearer tokens (their hashes never leave storage), newest
// first.
func (s *Store) APITokens(ctx context.Context) ([]APIToken, error) {
	var ts []APIToken
	if err := s.r.WithContext(ctx).Order("created_at DESC").Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("storage: tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken stops a bearer token from working.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) error {
	res := s.w.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", ms(s.Now()))
	if res.Error != nil {
		return fmt.Errorf("storage: revoke token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteDepartment removes a department from a site. Stored responses keep
// the slug they were given; only new forms stop offering it.
func (s *Store) DeleteDepartment(ctx context.Context, site, slug string) error {
	res := s.w.WithContext(ctx).Where("site = ? AND slug = ?", site, slug).Delete(&Department{})
	if res.Error != nil {
		return fmt.Errorf("storage: delete department: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteProvider removes a provider from a site, like DeleteDepartment.
func (s *Store) DeleteProvider(ctx context.Context, site, slug string) error {
	res := s.w.WithContext(ctx).Where("site = ? AND slug = ?", site, slug).Delete(&Provider{})
	if res.Error != nil {
		return fmt.Errorf("storage: delete provider: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
