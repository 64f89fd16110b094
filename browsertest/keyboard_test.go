package browsertest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/carevoice/carevoice/api"
)

// press sends keys to whatever has focus, as a keyboard would.
func press(t testing.TB, ctx context.Context, keys string) {
	t.Helper()
	do(t, ctx, "press "+keys, chromedp.KeyEvent(keys))
}

func focused(t testing.TB, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : ""`)
}

// tabTo presses Tab until the element with id has focus, failing if it is
// never reached: every control must be reachable from the keyboard.
func tabTo(t testing.TB, ctx context.Context, id string) {
	t.Helper()
	var seen []string
	for range 60 {
		if f := focused(t, ctx); f == id {
			return
		} else {
			seen = append(seen, f)
		}
		press(t, ctx, kb.Tab)
	}
	t.Fatalf("Tab never reached #%s; focus went %s", id, strings.Join(seen, " → "))
}

// hasFocusRing reports whether the focused control (or, for the visually
// hidden radio buttons, its label) shows a visible outline.
const hasFocusRing = `(() => {
	let el = document.activeElement;
	if (el && el.matches(".choice input")) { el = document.querySelector('label[for="' + el.id + '"]'); }
	const s = getComputedStyle(el);
	return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
})()`

// thanksShown: the thank-you page, or on a kiosk the thank-you panel.
const thanksShown = `(() => {
	const k = document.getElementById("kiosk-thanks");
	if (k) { return !k.hidden; }
	const h = document.querySelector("h1");
	return !document.querySelector("form") && !!h && /Thank you|Gracias/.test(h.innerText);
})()`

// TestKeyboardOnly completes each survey with the keyboard alone: Tab to
// move, Space and arrows to choose, Enter to send.
func TestKeyboardOnly(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	kiosk := a.device("main")
	type step struct{ focus, keys string }
	tests := []struct {
		name, path string
		steps      []step
		want       map[string]string // question → stored value
	}{
		{"fft", "/f/fft?site=main", []step{{"a-q1-1", " "}, {"a-q1-1", kb.ArrowRight}, {"a-q2", "Quick and kind."},
			{"contact_ok", " "}, {"contact_phone", "555 201 7788"}}, map[string]string{"q1": "2", "q2": "Quick and kind."}},
		{"nps", "/f/nps?site=main&lang=es", []step{{"a-q1-0", " " + strings.Repeat(kb.ArrowRight, 9)}, {"a-q2", "Muy amables."}},
			map[string]string{"q1": "9", "q2": "Muy amables."}},
		{"suggest", "/suggest/main", []step{{"a-q1", "More chairs, please."}, {"a-q2-care", " " + kb.ArrowRight + kb.ArrowRight}},
			map[string]string{"q1": "More chairs, please.", "q2": "waiting"}},
		{"kiosk", "/kiosk/" + kiosk, []step{{"a-q1-1", kb.ArrowRight + kb.ArrowRight + kb.ArrowRight}, {"a-q3", "Parking."}},
			map[string]string{"q1": "4", "q3": "Parking."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tab(t)
			open(t, ctx, a.URL+tt.path)
			id := state(t, ctx).ID
			for _, s := range tt.steps {
				tabTo(t, ctx, s.focus)
				if !eval[bool](t, ctx, hasFocusRing) {
					t.Errorf("#%s has no visible focus outline", s.focus)
				}
				press(t, ctx, s.keys)
			}
			tabTo(t, ctx, "send")
			press(t, ctx, kb.Enter)
			waitFor(t, ctx, "thank-you", thanksShown)
			r := a.response(id)
			got := map[string]string{}
			for _, ans := range r.Answers {
				switch {
				case ans.Num != nil:
					got[ans.Question] = strconv.FormatInt(*ans.Num, 10)
				case ans.Text != nil:
					got[ans.Question] = *ans.Text
				case len(ans.Choices) > 0:
					got[ans.Question] = strings.Join(ans.Choices, ",")
				}
			}
			for q, want := range tt.want {
				if got[q] != want {
					t.Errorf("stored %s = %q, want %q (all: %v)", q, got[q], want, got)
				}
			}
		})
	}
}
