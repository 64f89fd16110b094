package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/static"
)

// open navigates the tab and returns the HTTP status of the page.
func open(t testing.TB, ctx context.Context, url string) int64 {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	return resp.Status
}

// eval runs JavaScript in the page and decodes its value.
func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %q: %v", firstLine(js), err)
	}
	return v
}

func do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i] + "…"
	}
	return s
}

// waitFor polls a JavaScript condition until it is true, across page
// loads, and fails with what it waited for and what the page shows. The
// bound is generous: it only stops a broken test from hanging.
func waitFor(t testing.TB, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			shows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " | " + document.body.innerText.slice(0, 400)`))
			t.Fatalf("waiting for %s: gave up (last error: %v); page: %s", what, last, shows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

// violation is one axe-core rule that failed, with the elements it failed on.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n      … and %d more", len(v.Nodes)-3)
			break
		}
		fmt.Fprintf(&b, "\n      %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeTags are the rule sets checked: WCAG 2.0, 2.1 and 2.2 A and AA, and
// axe's best practices (landmarks, headings) which screen-reader users
// rely on as much.
const axeTags = `["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa","best-practice"]`

// axe injects the vendored axe-core into the current page and returns its
// violations. DevTools evaluation is not subject to the page's CSP, so the
// app's policy stays as strict as in production.
func axe(t testing.TB, ctx context.Context) []violation {
	t.Helper()
	axeOnce.Do(func() {
		b, err := static.TestFile("axe.min.js")
		axeSrc, axeErr = string(b), err
	})
	if axeErr != nil {
		t.Fatalf("axe-core: %v", axeErr)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSrc+"\n;true")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	out := eval[string](t, ctx, `axe.run(document, {runOnly: {type: "tag", values: `+axeTags+`}, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations))`)
	var vs []violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	return vs
}

// noViolations fails the test for every axe violation on the current page.
func noViolations(t testing.TB, ctx context.Context, page string) {
	t.Helper()
	for _, v := range axe(t, ctx) {
		t.Errorf("%s: axe: %s", page, v)
	}
}
