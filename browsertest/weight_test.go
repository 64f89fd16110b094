package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// pageBudget is the most a patient page may transfer, everything included
// (HTML, CSS, JS, fonts), so it opens quickly on a weak phone signal.
const pageBudget = 50 * 1024

type transfer struct {
	Total int `json:"total"`
	Files []struct {
		Name string `json:"name"`
		Size int    `json:"size"`
	} `json:"files"`
}

// measured reads what the browser itself counted for the page it shows:
// the document plus every resource, in bytes on the wire, headers included.
const measured = `(() => {
	const n = performance.getEntriesByType("navigation")[0];
	const files = [{name: n.name, size: n.transferSize}];
	for (const r of performance.getEntriesByType("resource")) { files.push({name: r.name, size: r.transferSize}); }
	return {total: files.reduce((a, f) => a + f.size, 0), files};
})()`

func noCache(t testing.TB, ctx context.Context) {
	t.Helper()
	do(t, ctx, "disable cache", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
}

// TestPageWeight measures, in the browser with its cache off, what each
// patient page transfers, and holds it under the budget.
func TestPageWeight(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	ctx := tab(t)
	noCache(t, ctx)
	for _, p := range patientPages(a) {
		t.Run(p.name, func(t *testing.T) {
			p.setup(t, ctx)
			waitFor(t, ctx, "load", `document.readyState === "complete"`)
			m := eval[transfer](t, ctx, measured)
			if len(m.Files) < 2 {
				t.Errorf("measured %d files; the stylesheet should be one of them", len(m.Files))
			}
			if m.Total > pageBudget {
				t.Errorf("%s transfers %d bytes, budget %d: %+v", p.name, m.Total, pageBudget, m.Files)
			}
			t.Logf("%-15s %6d bytes in %d files", p.name, m.Total, len(m.Files))
		})
	}
}
