package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// patientPage is a page a patient may see: setup reaches it in a tab
// (navigating, and for result pages filling and sending a form).
type patientPage struct {
	name  string
	setup func(t *testing.T, ctx context.Context)
}

func visit(a *app, path string) func(t *testing.T, ctx context.Context) {
	return func(t *testing.T, ctx context.Context) {
		t.Helper()
		open(t, ctx, a.URL+path)
	}
}

// pick clicks the label of a radio or checkbox, as a finger would.
func pick(t testing.TB, ctx context.Context, inputID string) {
	t.Helper()
	do(t, ctx, "pick "+inputID, chromedp.Click(chromedp.CSS(`label[for="`+inputID+`"]`)))
}

// submitAndWait presses the send button and waits for the next page (or,
// on a kiosk, for the thank-you message) to show.
func submitAndWait(t testing.TB, ctx context.Context, waitSel string) {
	t.Helper()
	do(t, ctx, "send", chromedp.Click(chromedp.CSS(`form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(waitSel)))
}

// patientPages lists every patient page and state the suite checks.
func patientPages(a *app) []patientPage {
	kiosk := a.device("main")
	return []patientPage{
		{"fft", visit(a, "/f/fft?site=main")},
		{"fft-es", visit(a, "/f/fft?site=main&lang=es")},
		{"nps", visit(a, "/f/nps?site=main")},
		{"suggest", visit(a, "/suggest/main")},
		{"kiosk", visit(a, "/kiosk/"+kiosk)},
		{"kiosk-reset", visit(a, "/kiosk/"+kiosk+"?reset=1")},
		{"invite", visit(a, "/s/"+a.invitation("fft", "main", 72*time.Hour))},
		{"form-errors", func(t *testing.T, ctx context.Context) {
			open(t, ctx, a.URL+"/f/fft?site=main")
			do(t, ctx, "fill", chromedp.SendKeys(chromedp.ID("contact_email"), "not an email"))
			submitAndWait(t, ctx, "#errors")
		}},
		{"thanks", func(t *testing.T, ctx context.Context) {
			open(t, ctx, a.URL+"/f/fft?site=main")
			pick(t, ctx, "a-q1-1")
			submitAndWait(t, ctx, "a.button")
		}},
		{"thanks-es", func(t *testing.T, ctx context.Context) {
			open(t, ctx, a.URL+"/f/nps?site=main&lang=es")
			pick(t, ctx, "a-q1-9")
			submitAndWait(t, ctx, "a.button")
		}},
		{"thanks-suggest", func(t *testing.T, ctx context.Context) {
			open(t, ctx, a.URL+"/suggest/main")
			do(t, ctx, "fill", chromedp.SendKeys(chromedp.ID("a-q1"), "A water fountain in the waiting room would help."))
			submitAndWait(t, ctx, "a.button")
		}},
		{"thanks-kiosk", func(t *testing.T, ctx context.Context) {
			open(t, ctx, a.URL+"/kiosk/"+kiosk)
			pick(t, ctx, "a-q1-2")
			submitAndWait(t, ctx, "#kiosk-thanks")
		}},
		{"invite-used", func(t *testing.T, ctx context.Context) {
			tok := a.invitation("fft", "main", 72*time.Hour)
			open(t, ctx, a.URL+"/s/"+tok)
			pick(t, ctx, "a-q1-1")
			submitAndWait(t, ctx, "a.button")
			open(t, ctx, a.URL+"/s/"+tok)
		}},
		{"invite-expired", visit(a, "/s/"+a.invitation("fft", "main", -time.Hour))},
		{"invite-unknown", visit(a, "/s/no-such-invitation")},
		{"not-found", visit(a, "/f/no-such-survey?site=main")},
	}
}
