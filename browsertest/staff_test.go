package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/demo"
)

// staffPages are the dashboard pages a manager uses.
var staffPages = []string{"/dashboard", "/dashboard/trends", "/dashboard/themes", "/dashboard/comments", "/cases"}

// TestStaffPages signs a manager in through the login page, over ~2,000
// demo responses, and runs axe on each dashboard page. The sign-in page
// must be clean; what axe finds on the dashboard pages is logged, not
// failed (those pages belong to the dashboard work). With
// CAREVOICE_SCREENSHOTS set it also saves the dashboard pictures.
func TestStaffPages(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	if err := demo.Fill(context.Background(), a.store, a.an, a.keys, demo.Options{Responses: 2000, Months: 12}, nil); err != nil {
		t.Fatal(err)
	}
	pw := a.user("manager@north.example", "manager", "north", "central", "south")
	ctx := tab(t)
	do(t, ctx, "viewport", chromedp.EmulateViewport(1280, 900))

	open(t, ctx, a.URL+"/login")
	noViolations(t, ctx, "login")
	do(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.ID("email"), "manager@north.example"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
	waitFor(t, ctx, "signed in", `location.pathname !== "/login" && document.readyState === "complete"`)

	dir := screenshotDir(t)
	for _, path := range staffPages {
		status := open(t, ctx, a.URL+path)
		if status != 200 {
			t.Logf("%s: status %d; not checked", path, status)
			continue
		}
		// Charts draw after load; give them their frame.
		waitFor(t, ctx, "page ready", `document.readyState === "complete"`)
		vs := axe(t, ctx)
		if len(vs) == 0 {
			t.Logf("%s: axe finds no violations", path)
		}
		for _, v := range vs {
			t.Logf("%s: axe (reported, not failed): %s", path, v)
		}
		if dir != "" {
			// The first screen of each page: what a manager sees on opening it.
			name := strings.Trim(strings.ReplaceAll(path, "/", "-"), "-")
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot %s: %v", path, err)
			}
			if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
