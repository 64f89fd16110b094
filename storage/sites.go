package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Site is one clinic location.
type Site struct {
	Slug        string       `gorm:"primaryKey" json:"slug"`
	Name        string       `json:"name"`
	TimeZone    string       `json:"time_zone"`
	CreatedAt   int64        `json:"-"`
	Departments []Department `gorm:"foreignKey:Site;references:Slug" json:"departments"`
	Providers   []Provider   `gorm:"foreignKey:Site;references:Slug" json:"providers,omitempty"`
}

// Department belongs to a site.
type Department struct {
	Site string `gorm:"primaryKey" json:"-"`
	Slug string `gorm:"primaryKey" json:"slug"`
	Name string `json:"name"`
}

// Provider is an optional clinician or team a response can name.
type Provider struct {
	Site string `gorm:"primaryKey" json:"-"`
	Slug string `gorm:"primaryKey" json:"slug"`
	Name string `json:"name"`
}

// Location returns the site's time zone, UTC when unknown.
func (s *Site) Location() *time.Location {
	if loc, err := loadZone(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// zones holds the time zones loaded so far, by name. time.LoadLocation reads
// and parses the zone's file on every call: done for each submission, that
// was ~10 % of the server's CPU under load (pprof, BENCHMARKS.md). Only
// zones that loaded are kept, so the map is bounded by the zone database.
var zones sync.Map

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// HasDepartment reports whether slug names one of the site's departments.
func (s *Site) HasDepartment(slug string) bool {
	for _, d := range s.Departments {
		if d.Slug == slug {
			return true
		}
	}
	return false
}

// HasProvider reports whether slug names one of the site's providers.
func (s *Site) HasProvider(slug string) bool {
	for _, p := range s.Providers {
		if p.Slug == slug {
			return true
		}
	}
	return false
}

// UpsertSite creates or updates a site with its departments and providers.
func (s *Store) UpsertSite(ctx context.Context, site Site) error {
	if _, err := time.LoadLocation(site.TimeZone); err != nil || site.TimeZone == "" {
		return fmt.Errorf("storage: site %s: unknown time zone %q: %w", site.Slug, site.TimeZone, ErrInvalid)
	}
	return s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if site.CreatedAt == 0 {
			site.CreatedAt = ms(s.Now())
		}
		row := Site{Slug: site.Slug, Name: site.Name, TimeZone: site.TimeZone, CreatedAt: site.CreatedAt}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "slug"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "time_zone"}),
		}).Omit("Departments", "Providers").Create(&row).Error; err != nil {
			return fmt.Errorf("storage: upsert site: %w", err)
		}
		for _, d := range site.Departments {
			d.Site = site.Slug
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&d).Error; err != nil {
				return fmt.Errorf("storage: upsert department: %w", err)
			}
		}
		for _, p := range site.Providers {
			p.Site = site.Slug
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&p).Error; err != nil {
				return fmt.Errorf("storage: upsert provider: %w", err)
			}
		}
		return nil
	})
}

// Site returns one site with its departments and providers.
func (s *Store) Site(ctx context.Context, slug string) (*Site, error) {
	var site Site
	err := s.r.WithContext(ctx).Preload("Departments", orderBySlug).Preload("Providers", orderBySlug).
		First(&site, "slug = ?", slug).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("storage: site %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: site: %w", err)
	}
	return &site, nil
}

// Sites lists sites; with only non-empty, just those slugs.
func (s *Store) Sites(ctx context.Context, only []string) ([]Site, error) {
	var sites []Site
	q := s.r.WithContext(ctx).Preload("Departments", orderBySlug).Preload("Providers", orderBySlug).Order("slug")
	if len(only) > 0 {
		q = q.Where("slug IN ?", only)
	}
	if err := q.Find(&sites).Error; err != nil {
		return nil, fmt.Errorf("storage: sites: %w", err)
	}
	return sites, nil
}

func orderBySlug(db *gorm.DB) *gorm.DB { return db.Order("slug") }

// SplitList parses the comma-separated lists we keep in a column.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
