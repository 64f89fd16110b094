package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Roles (SPEC "Roles").
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleQuality = "quality"
)

// ValidRole reports whether r is a role an account or token may have.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleManager || r == RoleQuality }

// The rule of a role's sites, for accounts and API tokens alike.
var (
	ErrManagerWithoutSites = errors.New("storage: a manager needs at least one site")
	ErrSitesNotForRole     = errors.New("storage: only a manager has sites")
)

// CheckRoleSites checks a role's list of sites: a manager sees only their
// sites, so one without any could do nothing; admin and quality see every
// site, so a list there would promise a limit that is not kept. Each caller
// words the error for its own users (CLI flags, form, JSON field).
func CheckRoleSites(role string, sites []string) error {
	switch {
	case role == RoleManager && len(sites) == 0:
		return ErrManagerWithoutSites
	case role != RoleManager && len(sites) > 0:
		return ErrSitesNotForRole
	}
	return nil
}

// User is a staff account.
type User struct {
	ID           int64  `json:"id"`
	Email        string `json:"email"`
	PasswordHash string `json:"-"`
	Role         string `json:"role"`
	Sites        string `json:"sites"` // comma-separated site slugs a manager may see; a manager needs one at least
	CreatedAt    int64  `json:"created_at"`
	PasswordAt   int64  `json:"-"`
	Disabled     bool   `json:"disabled"`
}

// SiteList returns the sites a manager is limited to. An empty list grants
// nothing: the API refuses a manager without sites (rows from before sites
// were required).
func (u *User) SiteList() []string { return SplitList(u.Sites) }

// CountUsers returns how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}

// CreateUser adds an account; the email must be new.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	now := ms(s.Now())
	u.CreatedAt, u.PasswordAt = now, now
	err := s.w.WithContext(ctx).Create(u).Error
	if err != nil && isUniqueViolation(err) {
		return fmt.Errorf("storage: user %s: %w", u.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("storage: create user: %w", err)
	}
	return nil
}

// UserByEmail finds an account by email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.r.WithContext(ctx).First(&u, "email = ?", strings.ToLower(strings.TrimSpace(email))).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: user: %w", err)
	}
	return &u, nil
}

// UserByID finds an account by id.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	err := s.r.WithContext(ctx).First(&u, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: user: %w", err)
	}
	return &u, nil
}

// Users lists accounts.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	var us []User
	err := s.r.WithContext(ctx).Order("email").Find(&us).Error
	return us, err
}

func isUniqueViolation(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "unique") || strings.Contains(m, "duplicate key")
}
