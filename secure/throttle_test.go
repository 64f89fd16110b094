package secure

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock shared by the throttle and limiter tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestThrottle(clock *fakeClock) *LoginThrottle {
	t := NewLoginThrottle()
	t.Now = clock.Now
	t.Store.(*MemoryThrottleStore).Now = clock.Now
	return t
}

func lockedBy(err error) string {
	var le *LockedError
	switch {
	case err == nil:
		return "none"
	case !errors.As(err, &le):
		return "error: " + err.Error()
	case le.ByIP:
		return "ip"
	default:
		return "account"
	}
}

func TestLoginThrottle(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance  time.Duration
		action   string // fail, success, clear, clearip
		account  string
		ip       string
		wantLock string // Check afterwards: none, account, ip
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"FourFailuresDoNotLock", []step{
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
		}},
		{"FifthFailureLocksAccountFor15Min", []step{
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.2"},
			{action: "fail", account: "a@x", ip: "1.1.1.3"},
			{action: "fail", account: "a@x", ip: "1.1.1.4"},
			{action: "fail", account: "A@X ", ip: "1.1.1.5", wantLock: "account"},
			{advance: 14 * time.Minute, account: "a@x", ip: "9.9.9.9", wantLock: "account"},
			{advance: time.Minute, account: "a@x", ip: "9.9.9.9", wantLock: "none"},
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
		}},
		{"FailuresOutsideWindowDoNotCount", []step{
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{advance: 16 * time.Minute, action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
		}},
		{"SuccessResetsAccount", []step{
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "fail", account: "a@x", ip: "1.1.1.1"},
			{action: "success", account: "a@x"},
			{action: "fail", account: "a@x", ip: "1.1.1.1", wantLock: "none"},
		}},
		{"AdminClearsLock", []step{
			{action: "fail", account: "a@x"}, {action: "fail", account: "a@x"}, {action: "fail", account: "a@x"},
			{action: "fail", account: "a@x"}, {action: "fail", account: "a@x", wantLock: "account"},
			{action: "clear", account: "a@x", wantLock: "none"},
		}},
		{"UnknownAccountLocksToo", []step{
			{action: "fail", account: "nobody@x"}, {action: "fail", account: "nobody@x"}, {action: "fail", account: "nobody@x"},
			{action: "fail", account: "nobody@x"}, {action: "fail", account: "nobody@x", wantLock: "account"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			th := newTestThrottle(clock)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				var err error
				switch s.action {
				case "fail":
					err = th.Failure(ctx, s.account, s.ip)
				case "success":
					err = th.Success(ctx, s.account)
				case "clear":
					err = th.Clear(ctx, s.account)
				}
				if s.action != "fail" && err != nil {
					t.Fatalf("step %d: %s: %v", i, s.action, err)
				}
				if s.wantLock == "" {
					continue
				}
				if got := lockedBy(th.Check(ctx, s.account, s.ip)); got != s.wantLock {
					t.Fatalf("step %d: got lock %q, want %q", i, got, s.wantLock)
				}
			}
		})
	}
}

func TestLoginThrottleSpraying(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	th := newTestThrottle(clock)
	// One address trying two guesses on each of many accounts never trips
	// an account lock, so the IP rule must.
	for i := range 20 {
		err := th.Failure(ctx, fmt.Sprintf("user%d@x", i/2), "6.6.6.6")
		if want := i == 19; (lockedBy(err) == "ip") != want {
			t.Fatalf("failure %d: got %q", i+1, lockedBy(err))
		}
	}
	if got := lockedBy(th.Check(ctx, "someone-new@x", "6.6.6.6")); got != "ip" {
		t.Fatalf("got %q, want ip lock", got)
	}
	if got := lockedBy(th.Check(ctx, "someone-new@x", "7.7.7.7")); got != "none" {
		t.Fatalf("other IP: got %q, want none", got)
	}
	// A successful login must not reset the IP counter.
	th.Success(ctx, "user0@x")
	if got := lockedBy(th.Check(ctx, "user0@x", "6.6.6.6")); got != "ip" {
		t.Fatalf("after success: got %q, want ip lock", got)
	}
	if err := th.ClearIP(ctx, "6.6.6.6"); err != nil {
		t.Fatal(err)
	}
	if got := lockedBy(th.Check(ctx, "user0@x", "6.6.6.6")); got != "none" {
		t.Fatalf("after ClearIP: got %q, want none", got)
	}
	var le *LockedError
	th.IP.MaxFailures = 1
	if err := th.Failure(ctx, "z@x", "8.8.8.8"); !errors.As(err, &le) || le.RetryAfter(clock.Now()) != 15*time.Minute {
		t.Fatalf("got %v, want a 15 minute lock", err)
	}
}

func TestLoginThrottleConcurrentFailuresCount(t *testing.T) {
	ctx := context.Background()
	th := newTestThrottle(newFakeClock())
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { th.Failure(ctx, "a@x", "") })
	}
	wg.Wait()
	if got := lockedBy(th.Check(ctx, "a@x", "")); got != "account" {
		t.Fatalf("got %q after 50 parallel failures, want account lock", got)
	}
}

func TestMemoryThrottleStoreBounded(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	store := NewMemoryThrottleStore(100)
	store.Now = clock.Now
	th := &LoginThrottle{Store: store, Now: clock.Now,
		Account: ThrottleRule{MaxFailures: 1, Window: time.Minute, Lockout: time.Hour},
		IP:      ThrottleRule{MaxFailures: 1000, Window: time.Minute, Lockout: time.Minute}}
	th.Failure(ctx, "victim@x", "") // locked
	th.Account.MaxFailures = 5
	for i := range 1000 {
		th.Failure(ctx, fmt.Sprintf("flood%d@x", i), "")
	}
	if n := store.Len(); n > 100 {
		t.Fatalf("got %d keys, want at most 100", n)
	}
	if got := lockedBy(th.Check(ctx, "victim@x", "")); got != "account" {
		t.Fatalf("flooding lifted a lock: got %q", got)
	}
}
