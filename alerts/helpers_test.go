package alerts

import "github.com/carevoice/carevoice/analytics"

func analyticsResult(theme string) *analytics.Result {
	return &analytics.Result{Sentiment: "negative", Version: "t", Themes: []analytics.ThemeHit{{ID: theme, Polarity: "negative"}}}
}
