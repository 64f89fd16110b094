package browsertest

import (
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// TestAccessibilityPatientPages runs axe-core (WCAG 2.x A/AA and best
// practices) on every patient page and state: zero violations allowed.
func TestAccessibilityPatientPages(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	for _, p := range patientPages(a) {
		t.Run(p.name, func(t *testing.T) {
			ctx := tab(t)
			p.setup(t, ctx)
			noViolations(t, ctx, p.name)
		})
	}
}

// TestAxeCatchesProblems makes sure the checker is awake: a page with an
// unlabelled field, an image without text and grey-on-grey text fails.
func TestAxeCatchesProblems(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	const bad = `<!doctype html><html><head><title>x</title></head><body><main><h1>Bad</h1>` +
		`<input type=text><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p style="color:#bbb;background:#ccc">faint</p></main></body></html>`
	do(t, ctx, "open bad page", chromedp.Navigate("data:text/html,"+url.PathEscape(bad)))
	got := map[string]bool{}
	for _, v := range axe(t, ctx) {
		got[v.ID] = true
	}
	for _, want := range []string{"label", "image-alt", "color-contrast", "html-has-lang"} {
		if !got[want] {
			t.Errorf("axe missed %q on a page built to fail it (found %v)", want, got)
		}
	}
}
