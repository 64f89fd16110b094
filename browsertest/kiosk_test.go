package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// formState is what a form shows: a trace of any patient must be absent.
type formState struct {
	ID      string `json:"id"`
	Checked int    `json:"checked"`
	Text    string `json:"text"`
	Storage int    `json:"storage"`
	Body    string `json:"body"`
}

const readForm = `(() => {
	const f = document.querySelector("form");
	const text = [...document.querySelectorAll("form textarea, form input[type=text], form input[type=tel], form input[type=email]")]
		.map(e => e.value).join("");
	return {id: f ? f.elements.namedItem("id").value : "", checked: document.querySelectorAll("form input:checked").length,
		text, storage: localStorage.length + sessionStorage.length, body: document.body.innerText};
})()`

func state(t testing.TB, ctx context.Context) formState {
	t.Helper()
	return eval[formState](t, ctx, readForm)
}

// assertBlank fails when the page shows anything a previous patient entered.
func assertBlank(t testing.TB, ctx context.Context, when string, secrets ...string) formState {
	t.Helper()
	s := state(t, ctx)
	if s.Checked != 0 || s.Text != "" {
		t.Errorf("%s: form not blank: %d answers checked, text %q", when, s.Checked, s.Text)
	}
	for _, x := range secrets {
		if strings.Contains(s.Body, x) {
			t.Errorf("%s: page still shows %q", when, x)
		}
	}
	return s
}

// TestKioskFlow: fill, send, thank-you, a fresh form; nothing of one
// patient stays for the next, whatever the next one presses.
func TestKioskFlow(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	key := a.device("main")
	ctx := tab(t)
	open(t, ctx, a.URL+"/kiosk/"+key)

	// The browser is told not to remember what patients type.
	off := eval[bool](t, ctx, `document.querySelector("form").autocomplete === "off" &&
		[...document.querySelectorAll("form input:not([type=hidden]), form textarea")].every(e => e.autocomplete === "off" || e.closest("form").autocomplete === "off")`)
	if !off {
		t.Error("kiosk form or one of its fields allows autofill")
	}

	// Patient 1.
	const secret1 = "The nurse on ward 4 was very kind to my mother"
	first := state(t, ctx)
	pick(t, ctx, "a-q1-1")
	do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q2"), secret1))
	submitAndWait(t, ctx, "#kiosk-thanks")
	if r := a.response(first.ID); r.Channel != "kiosk" || r.Site != "main" || r.Lang != "en" {
		t.Errorf("stored response: channel %q site %q lang %q, want kiosk main en", r.Channel, r.Site, r.Lang)
	}
	assertBlank(t, ctx, "thank-you", secret1)
	if s := state(t, ctx); s.Storage != 0 {
		t.Errorf("after sending, page storage holds %d items, want none", s.Storage)
	}
	if contact := eval[bool](t, ctx, `!document.getElementById("kiosk-thanks-contact").hidden`); contact {
		t.Error("thank-you promises contact that was not asked for")
	}
	do(t, ctx, "start again", chromedp.Click(chromedp.ID("kiosk-again")), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")))
	second := assertBlank(t, ctx, "fresh form", secret1)
	if second.ID == first.ID || second.ID == "" {
		t.Errorf("fresh form id %q, want a new one (first was %q)", second.ID, first.ID)
	}

	// Patient 2 asks to be contacted, in Spanish chosen on the page.
	do(t, ctx, "switch to Spanish", chromedp.Click(chromedp.CSS(`nav.langs a[lang=es]`)))
	waitFor(t, ctx, "Spanish page", `document.documentElement.lang === "es" && document.readyState === "complete"`)
	const phone = "555 201 7788"
	second = state(t, ctx)
	pick(t, ctx, "a-q1-4")
	do(t, ctx, "contact", chromedp.Click(chromedp.ID("contact_ok")), chromedp.SendKeys(chromedp.ID("contact_phone"), phone))
	submitAndWait(t, ctx, "#kiosk-thanks")
	if contact := eval[bool](t, ctx, `!document.getElementById("kiosk-thanks-contact").hidden`); !contact {
		t.Error("thank-you does not say we will contact the patient who asked")
	}
	if r := a.response(second.ID); r.Lang != "es" || !r.WantsContact {
		t.Errorf("stored response: lang %q wants contact %v, want es and true", r.Lang, r.WantsContact)
	}
	assertBlank(t, ctx, "thank-you (2)", phone)

	// Patient 3 walks off half way; patient 4 presses back, then forward.
	do(t, ctx, "start again", chromedp.Click(chromedp.ID("kiosk-again")))
	const secret3 = "my appointment for the biopsy"
	pick(t, ctx, "a-q1-5")
	do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q3"), secret3))
	do(t, ctx, "back", chromedp.NavigateBack())
	assertBlankPage(t, ctx, "after back", secret3, phone, secret1)
	do(t, ctx, "forward", chromedp.NavigateForward())
	waitFor(t, ctx, "kiosk page", `!!document.querySelector("form[data-kiosk]")`)
	if s := assertBlank(t, ctx, "after back and forward", secret3, phone, secret1); s.Storage != 0 {
		t.Errorf("after back and forward, page storage holds %d items, want none", s.Storage)
	}
	if n, err := a.store.CountResponses(context.Background()); err != nil || n != 2 {
		t.Errorf("stored %d responses (err %v), want 2", n, err)
	}
}

// assertBlankPage checks whatever page is showing (it may not be a form).
func assertBlankPage(t testing.TB, ctx context.Context, when string, secrets ...string) {
	t.Helper()
	body := eval[string](t, ctx, `document.body ? document.body.innerText : ""`)
	for _, x := range secrets {
		if strings.Contains(body, x) {
			t.Errorf("%s: page shows %q", when, x)
		}
	}
}

// TestKioskIdleReset: a form left half filled is cleared after the idle
// time, with a short note, and nothing is sent.
func TestKioskIdleReset(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: 3 * time.Second})
	key := a.device("main")
	ctx := tab(t)
	open(t, ctx, a.URL+"/kiosk/"+key)
	before := state(t, ctx)
	const secret = "please call me about my test results"
	pick(t, ctx, "a-q1-3")
	do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q3"), secret))
	do(t, ctx, "wait for idle reset", chromedp.WaitVisible(chromedp.ID("kiosk-reset")))
	after := assertBlank(t, ctx, "after idle", secret)
	if after.ID == before.ID {
		t.Error("idle reset kept the form id; the next patient's answers would collide")
	}
	if n, _ := a.store.CountResponses(context.Background()); n != 0 {
		t.Errorf("idle reset stored %d responses, want 0", n)
	}
}
