package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// Screen sizes of the README pictures: a common phone and a common tablet.
var screens = []struct {
	name          string
	width, height int64
}{
	{"phone", 390, 844},
	{"tablet", 820, 1180},
}

// shoot saves a full-page PNG of the current page as dir/name.png.
func shoot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	// Let the caret and any focus ring settle out of the picture.
	eval[bool](t, ctx, `document.activeElement && document.activeElement.blur && document.activeElement.blur(), window.scrollTo(0, 0), true`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScreenshots saves every patient page at phone and tablet size for
// the README. It runs only when CAREVOICE_SCREENSHOTS names a folder:
//
//	CAREVOICE_SCREENSHOTS=docs/screenshots go test ./browsertest -run Screenshots
func TestScreenshots(t *testing.T) {
	t.Parallel()
	dir := screenshotDir(t)
	if dir == "" {
		t.Skip("set " + EnvScreenshots + "=docs/screenshots to write the README screenshots")
	}
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	pages := patientPages(a)
	for _, sc := range screens {
		ctx := tab(t)
		do(t, ctx, "viewport", chromedp.EmulateViewport(sc.width, sc.height))
		for _, p := range pages {
			t.Run(sc.name+"/"+p.name, func(t *testing.T) {
				p.setup(t, ctx)
				shoot(t, ctx, dir, p.name+"-"+sc.name)
			})
		}
	}
}
