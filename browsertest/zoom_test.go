package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// reflow checks a page at 200 % text on a 320 px wide screen: nothing runs
// off the side (no horizontal scrolling), no text is cut, and the send
// button, where there is one, can be scrolled to and is not covered.
const reflow = `(() => {
	const root = document.documentElement;
	root.style.fontSize = (parseFloat(getComputedStyle(root).fontSize) * 2) + "px";
	const out = [];
	const vw = root.clientWidth;
	if (root.scrollWidth > vw) { out.push("page scrolls sideways: " + root.scrollWidth + " > " + vw); }
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || getComputedStyle(el).position === "absolute") { continue; }
		if (r.right > vw + 1) { out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className + " ends at " + Math.round(r.right) + " > " + vw); }
		const s = getComputedStyle(el);
		if ((s.overflowX === "hidden" || s.overflowX === "clip") && !el.matches("input, textarea") && el.scrollWidth > el.clientWidth + 1) { out.push(el.tagName.toLowerCase() + " cuts its text"); }
	}
	const send = document.getElementById("send");
	if (send && send.offsetParent !== null) {
		send.scrollIntoView({block: "center"});
		const r = send.getBoundingClientRect();
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		if (!send.contains(hit)) { out.push("send button covered by " + (hit ? hit.tagName + "#" + hit.id + "." + hit.className : "nothing")); }
		if (r.left < 0 || r.right > vw) { out.push("send button off screen"); }
	}
	return out.slice(0, 10);
})()`

// TestTextZoom200 runs every patient page at 200 % text on the narrowest
// phone (WCAG 1.4.4 and 1.4.10).
func TestTextZoom200(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	ctx := tab(t)
	do(t, ctx, "viewport", chromedp.EmulateViewport(320, 640))
	for _, p := range patientPages(a) {
		t.Run(p.name, func(t *testing.T) {
			p.setup(t, ctx)
			for _, problem := range eval[[]string](t, ctx, reflow) {
				t.Errorf("%s at 200%% text, 320 px: %s", p.name, problem)
			}
		})
	}
}
