package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// siteKey and siteThemeKey key the site-level rollups (migration 0002).
type siteKey struct{ Day, Site string }

type siteThemeKey struct {
	siteKey
	Theme, Polarity string
}

const upsertSiteDaily = `INSERT INTO rollup_site_daily (day, site, responses,
	fft_0, fft_1, fft_2, fft_3, fft_4, fft_5, nps_promoters, nps_passives, nps_detractors,
	comments, positive, neutral, negative, mixed)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
	ON CONFLICT (day, site) DO UPDATE SET
	responses = rollup_site_daily.responses + excluded.responses,
	fft_0 = rollup_site_daily.fft_0 + excluded.fft_0, fft_1 = rollup_site_daily.fft_1 + excluded.fft_1,
	fft_2 = rollup_site_daily.fft_2 + excluded.fft_2, fft_3 = rollup_site_daily.fft_3 + excluded.fft_3,
	fft_4 = rollup_site_daily.fft_4 + excluded.fft_4, fft_5 = rollup_site_daily.fft_5 + excluded.fft_5,
	nps_promoters = rollup_site_daily.nps_promoters + excluded.nps_promoters,
	nps_passives = rollup_site_daily.nps_passives + excluded.nps_passives,
	nps_detractors = rollup_site_daily.nps_detractors + excluded.nps_detractors,
	comments = rollup_site_daily.comments + excluded.comments,
	positive = rollup_site_daily.positive + excluded.positive, neutral = rollup_site_daily.neutral + excluded.neutral,
	negative = rollup_site_daily.negative + excluded.negative, mixed = rollup_site_daily.mixed + excluded.mixed`

const upsertSiteTheme = `INSERT INTO rollup_site_themes (day, site, theme, polarity, n) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (day, site, theme, polarity) DO UPDATE SET n = rollup_site_themes.n + excluded.n`

// siteSums sums a batch's fine rollup keys into the site-level keys, each
// list in a fixed order (no deadlocks between PostgreSQL instances).
func (b *rollupBatch) siteSums() ([]siteKey, map[siteKey]*dailyCounts, []siteThemeKey, map[siteThemeKey]int64) {
	daily := map[siteKey]*dailyCounts{}
	for k, c := range b.daily {
		sk := siteKey{k.Day, k.Site}
		d := daily[sk]
		if d == nil {
			d = &dailyCounts{}
			daily[sk] = d
		}
		d.Responses += c.Responses
		for i := range c.FFT {
			d.FFT[i] += c.FFT[i]
		}
		d.Promoters, d.Passives, d.Detractors = d.Promoters+c.Promoters, d.Passives+c.Passives, d.Detractors+c.Detractors
		d.Comments, d.Positive, d.Neutral = d.Comments+c.Comments, d.Positive+c.Positive, d.Neutral+c.Neutral
		d.Negative, d.Mixed = d.Negative+c.Negative, d.Mixed+c.Mixed
	}
	keys := make([]siteKey, 0, len(daily))
	for k := range daily {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].Day < keys[j].Day || keys[i].Day == keys[j].Day && keys[i].Site < keys[j].Site
	})
	themes := map[siteThemeKey]int64{}
	for k, n := range b.themes {
		themes[siteThemeKey{siteKey{k.Day, k.Site}, k.Theme, k.Polarity}] += n
	}
	tkeys := make([]siteThemeKey, 0, len(themes))
	for k := range themes {
		tkeys = append(tkeys, k)
	}
	sort.Slice(tkeys, func(i, j int) bool {
		a, b := tkeys[i], tkeys[j]
		if a.siteKey != b.siteKey {
			return a.Day < b.Day || a.Day == b.Day && a.Site < b.Site
		}
		return a.Theme < b.Theme || a.Theme == b.Theme && a.Polarity < b.Polarity
	})
	return keys, daily, tkeys, themes
}

// flushSites writes a batch's site-level rollups, summed from the fine
// keys. The group writer calls it in the batch's transaction, after the
// fine rollups.
func (b *rollupBatch) flushSites(ctx context.Context, tx *sql.Tx) error {
	keys, daily, tkeys, themes := b.siteSums()
	for _, k := range keys {
		c := daily[k]
		if _, err := tx.ExecContext(ctx, upsertSiteDaily, k.Day, k.Site, c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
			c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed); err != nil {
			return fmt.Errorf("storage: update site rollup: %w", err)
		}
	}
	for _, k := range tkeys {
		if _, err := tx.ExecContext(ctx, upsertSiteTheme, k.Day, k.Site, k.Theme, k.Polarity, themes[k]); err != nil {
			return fmt.Errorf("storage: update site theme rollup: %w", err)
		}
	}
	return nil
}
