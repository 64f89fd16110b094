package storage

import (
	"context"
	"fmt"

	"github.com/carevoice/carevoice/survey"
)

// Seed creates, on an empty database, the built-in surveys and the site
// `main`. It is safe to call on every start.
func (s *Store) Seed(ctx context.Context, defaultTZ string) error {
	for _, def := range survey.Builtin() {
		if _, err := s.Survey(ctx, def.Slug); err == nil {
			continue
		}
		if _, err := s.SaveSurvey(ctx, def, "seed", false); err != nil {
			return fmt.Errorf("storage: seed survey %s: %w", def.Slug, err)
		}
	}
	var n int64
	if err := s.r.WithContext(ctx).Model(&Site{}).Count(&n).Error; err != nil {
		return fmt.Errorf("storage: seed: %w", err)
	}
	if n == 0 {
		if defaultTZ == "" {
			defaultTZ = "UTC"
		}
		if err := s.UpsertSite(ctx, Site{Slug: "main", Name: "Main clinic", TimeZone: defaultTZ,
			Departments: []Department{{Slug: "general", Name: "General practice"}}}); err != nil {
			return fmt.Errorf("storage: seed site: %w", err)
		}
	}
	return nil
}
