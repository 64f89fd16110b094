package secure

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	type step struct {
		advance   time.Duration
		key       string
		wantOK    bool
		wantRetry time.Duration
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"BurstThenRefuse", 1, 3, []step{
			{key: "a", wantOK: true}, {key: "a", wantOK: true}, {key: "a", wantOK: true},
			{key: "a", wantOK: false, wantRetry: time.Second},
			{key: "b", wantOK: true}, // keys are independent
		}},
		{"Refills", 1, 2, []step{
			{key: "a", wantOK: true}, {key: "a", wantOK: true},
			{advance: 500 * time.Millisecond, key: "a", wantOK: false, wantRetry: 500 * time.Millisecond},
			{advance: 500 * time.Millisecond, key: "a", wantOK: true},
			{key: "a", wantOK: false, wantRetry: time.Second},
		}},
		{"RefillCapsAtBurst", 10, 2, []step{
			{advance: time.Hour, key: "a", wantOK: true}, {key: "a", wantOK: true},
			{key: "a", wantOK: false, wantRetry: 100 * time.Millisecond},
		}},
		{"TenPerMinute", 10.0 / 60, 10, []step{
			{key: "k", wantOK: true}, {key: "k", wantOK: true}, {key: "k", wantOK: true},
			{key: "k", wantOK: true}, {key: "k", wantOK: true}, {key: "k", wantOK: true},
			{key: "k", wantOK: true}, {key: "k", wantOK: true}, {key: "k", wantOK: true},
			{key: "k", wantOK: true},
			{key: "k", wantOK: false, wantRetry: 6 * time.Second},
			{advance: 6 * time.Second, key: "k", wantOK: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			l := NewRateLimiter(tt.rate, tt.burst, WithClock(clock.Now))
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				ok, retry := l.Allow(s.key)
				if ok != s.wantOK || retry != s.wantRetry {
					t.Fatalf("step %d: got (%v, %v), want (%v, %v)", i, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

func TestRateLimiterAllowN(t *testing.T) {
	l := NewRateLimiter(1, 5, WithClock(newFakeClock().Now))
	if ok, _ := l.AllowN("a", 4); !ok {
		t.Fatal("4 of 5: refused")
	}
	if ok, _ := l.AllowN("a", 2); ok {
		t.Fatal("2 more of 1 left: allowed")
	}
	if ok, retry := l.AllowN("a", 6); ok || retry < time.Hour {
		t.Fatalf("more than burst: got (%v, %v), want refused forever", ok, retry)
	}
}

func TestRateLimiterEvictsIdleKeys(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(1, 5, WithClock(clock.Now), WithMaxKeys(1000))
	for i := range 500 {
		l.Allow(fmt.Sprintf("ip%d", i))
	}
	if got := l.Len(); got != 500 {
		t.Fatalf("got %d keys, want 500", got)
	}
	clock.Advance(5 * time.Second) // long enough for every bucket to refill
	l.Allow("fresh")
	if got := l.Len(); got != 1 {
		t.Fatalf("got %d keys after idle period, want 1", got)
	}
}

func TestRateLimiterMaxKeys(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(1, 1, WithClock(clock.Now), WithMaxKeys(10))
	for i := range 100 {
		l.Allow(fmt.Sprintf("ip%d", i))
	}
	if got := l.Len(); got != 10 {
		t.Fatalf("got %d keys, want 10", got)
	}
	// The most recent keys survive.
	if ok, _ := l.Allow("ip99"); ok {
		t.Fatal("ip99 was evicted and got a fresh burst")
	}
}

func TestRateLimiterClockBackwards(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(1, 1, WithClock(clock.Now))
	l.Allow("a")
	clock.Advance(-time.Hour)
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("clock stepping back minted a token")
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l := NewRateLimiter(0, 100, WithClock(newFakeClock().Now))
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow("kiosk"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 100 {
		t.Fatalf("got %d allowed, want exactly the burst of 100", allowed)
	}
}

func TestRateLimiterReset(t *testing.T) {
	l := NewRateLimiter(0, 1, WithClock(newFakeClock().Now))
	l.Allow("a")
	l.Reset("a")
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("after Reset: refused")
	}
}
