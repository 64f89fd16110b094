package browsertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

type queued struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	Body   string `json:"body"`
}

const queueKey = "carevoice.kiosk.queue"

func queue(t testing.TB, ctx context.Context) (string, []queued) {
	t.Helper()
	raw := eval[string](t, ctx, `localStorage.getItem("`+queueKey+`") || "[]"`)
	var q []queued
	if err := json.Unmarshal([]byte(raw), &q); err != nil {
		t.Fatalf("queue %q: %v", raw, err)
	}
	return raw, q
}

// TestKioskOffline stops the real server under the browser: the kiosk keeps
// taking answers, queues them on the tablet and says so calmly; when the
// server is back (same port, same database) it sends them with their
// original ids, and a resend of one already stored does not double it.
func TestKioskOffline(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	key := a.device("main")
	ctx := tab(t)
	open(t, ctx, a.URL+"/kiosk/"+key)
	if shown := eval[bool](t, ctx, `!document.getElementById("offline").hidden`); shown {
		t.Error("offline indicator shown while online")
	}

	a.stop()
	var ids []string
	for i, answer := range []string{"a-q1-2", "a-q1-5"} {
		ids = append(ids, state(t, ctx).ID)
		pick(t, ctx, answer)
		do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q3"), "offline comment"))
		do(t, ctx, "send", chromedp.Click(chromedp.CSS(`form button[type=submit]`)))
		waitFor(t, ctx, "thank-you", `!document.getElementById("kiosk-thanks").hidden`)
		assertBlank(t, ctx, "thank-you while offline", "offline comment")
		if i == 0 {
			do(t, ctx, "start again", chromedp.Click(chromedp.ID("kiosk-again")))
		}
	}
	// An incomplete form is not queued: nobody would see the server's message.
	do(t, ctx, "start again", chromedp.Click(chromedp.ID("kiosk-again")))
	do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q2"), "no rating given"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)))

	raw, q := queue(t, ctx)
	if len(q) != 2 || q[0].ID != ids[0] || q[1].ID != ids[1] {
		t.Fatalf("queue on the tablet = %s, want the two answered forms %v", raw, ids)
	}
	indicator := eval[string](t, ctx, `(() => { const b = document.getElementById("offline"); return b.hidden ? "" : b.innerText; })()`)
	if indicator == "" {
		t.Error("no offline indicator while 2 responses wait on the tablet")
	}
	t.Logf("offline indicator: %q", indicator)
	if loc := eval[string](t, ctx, `location.pathname`); loc != "/kiosk/"+key {
		t.Errorf("kiosk left its page while offline: %s", loc)
	}

	a.start()
	waitFor(t, ctx, "the queue to drain", `localStorage.length === 0 && document.getElementById("offline").hidden`)
	counts, err := a.store.CountResponseIDs(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("response %s stored %d times, want 1", id, counts[id])
		}
	}
	if r := a.response(ids[1]); r.Channel != "kiosk" || len(r.Answers) == 0 {
		t.Errorf("queued response stored as channel %q with %d answers", r.Channel, len(r.Answers))
	}

	// The reply to a send is lost and the tablet sends it again.
	resend, _ := json.Marshal(q[:1])
	eval[bool](t, ctx, `localStorage.setItem("`+queueKey+`", `+jsString(string(resend))+`), true`)
	waitFor(t, ctx, "the resend to finish", `localStorage.length === 0`)
	if n, _ := a.store.CountResponses(context.Background()); n != 2 {
		t.Errorf("after a resend %d responses stored, want 2", n)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
