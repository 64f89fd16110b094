package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/carevoice/carevoice/survey"
)

type surveyRow struct {
	Slug       string `gorm:"primaryKey"`
	Version    int    `gorm:"primaryKey"`
	Definition string
	CreatedAt  int64
	CreatedBy  string
}

func (surveyRow) TableName() string { return "surveys" }

// Survey returns the latest version of a survey.
func (s *Store) Survey(ctx context.Context, slug string) (*survey.Survey, error) {
	var row surveyRow
	err := s.r.WithContext(ctx).Where("slug = ?", slug).Order("version DESC").First(&row).Error
	return decodeSurvey(row, slug, err)
}

// SurveyVersion returns one version of a survey.
func (s *Store) SurveyVersion(ctx context.Context, slug string, version int) (*survey.Survey, error) {
	var row surveyRow
	err := s.r.WithContext(ctx).Where("slug = ? AND version = ?", slug, version).First(&row).Error
	return decodeSurvey(row, slug, err)
}

func decodeSurvey(row surveyRow, slug string, err error) (*survey.Survey, error) {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("storage: survey %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: survey: %w", err)
	}
	var def survey.Survey
	if err := json.Unmarshal([]byte(row.Definition), &def); err != nil {
		return nil, fmt.Errorf("storage: survey %q: bad definition: %w", slug, err)
	}
	def.Slug, def.Version = row.Slug, row.Version
	return &def, nil
}

// Surveys lists the latest version of every survey.
func (s *Store) Surveys(ctx context.Context) ([]survey.Survey, error) {
	var rows []surveyRow
	err := s.r.WithContext(ctx).Raw(`SELECT s.* FROM surveys s
		JOIN (SELECT slug, MAX(version) AS version FROM surveys GROUP BY slug) m
		ON m.slug = s.slug AND m.version = s.version ORDER BY s.slug`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: surveys: %w", err)
	}
	out := make([]survey.Survey, 0, len(rows))
	for _, r := range rows {
		d, err := decodeSurvey(r, r.Slug, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// SaveSurvey stores def as a new version (1 for a new slug) and returns it.
// Old responses keep the version they were answered with.
func (s *Store) SaveSurvey(ctx context.Context, def survey.Survey, by string, mustExist bool) (*survey.Survey, error) {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur int
		if err := tx.Raw("SELECT COALESCE(MAX(version), 0) FROM surveys WHERE slug = ?", def.Slug).Scan(&cur).Error; err != nil {
			return err
		}
		if mustExist && cur == 0 {
			return fmt.Errorf("survey %q: %w", def.Slug, ErrNotFound)
		}
		if !mustExist && cur != 0 {
			return fmt.Errorf("survey %q already exists: %w", def.Slug, ErrConflict)
		}
		def.Version = cur + 1
		b, err := json.Marshal(def)
		if err != nil {
			return err
		}
		return tx.Create(&surveyRow{Slug: def.Slug, Version: def.Version, Definition: string(b), CreatedAt: ms(s.Now()), CreatedBy: by}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("storage: save survey: %w", err)
	}
	return &def, nil
}
