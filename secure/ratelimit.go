package secure

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// RateLimiter is a token bucket per key (a client IP, a kiosk key): each key
// may make Burst requests at once and then Rate per second. It is safe for
// concurrent use and holds at most MaxKeys buckets.
//
// Memory stays bounded without a background goroutine: buckets are kept in
// least-recently-used order, and a bucket untouched long enough to have
// refilled completely is indistinguishable from a new one, so it is dropped
// from the cold end whenever a request comes in. If the limiter is still full
// the coldest bucket is dropped anyway; that can hand a flooding client a
// fresh burst, which is the price of a fixed memory ceiling.
type RateLimiter struct {
	rate    float64 // tokens per second
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element
	lru     *list.List // front = most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// RateLimiterOption configures a RateLimiter.
type RateLimiterOption func(*RateLimiter)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) RateLimiterOption {
	return func(l *RateLimiter) { l.now = now }
}

// WithMaxKeys bounds the number of buckets held (default 100,000).
func WithMaxKeys(n int) RateLimiterOption {
	return func(l *RateLimiter) {
		if n > 0 {
			l.maxKeys = n
		}
	}
}

// NewRateLimiter allows burst requests at once per key and then rate per
// second; for example NewRateLimiter(10.0/60, 10) is 10 a minute.
func NewRateLimiter(rate float64, burst int, opts ...RateLimiterOption) *RateLimiter {
	if burst < 1 {
		burst = 1
	}
	l := &RateLimiter{
		rate:    rate,
		burst:   float64(burst),
		maxKeys: 100_000,
		now:     time.Now,
		buckets: make(map[string]*list.Element),
		lru:     list.New(),
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Allow takes one token for key. When none is left it returns false and how
// long until one is, for a Retry-After header.
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	return l.AllowN(key, 1)
}

// AllowN takes n tokens for key at once, or none.
func (l *RateLimiter) AllowN(key string, n int) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)

	var b *bucket
	if e, found := l.buckets[key]; found {
		l.lru.MoveToFront(e)
		b = e.Value.(*bucket)
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
		}
		// A clock stepping backwards must not mint tokens, so last only
		// moves forward.
		if now.After(b.last) {
			b.last = now
		}
	} else {
		if len(l.buckets) >= l.maxKeys {
			l.removeOldest()
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushFront(b)
	}

	need := float64(n)
	if b.tokens >= need {
		b.tokens -= need
		return true, 0
	}
	if l.rate <= 0 || need > l.burst {
		return false, time.Duration(math.MaxInt64)
	}
	wait := (need - b.tokens) / l.rate
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}

// sweep drops buckets from the cold end that have refilled completely.
func (l *RateLimiter) sweep(now time.Time) {
	if l.rate <= 0 {
		return
	}
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*bucket)
		if now.Sub(b.last) < full {
			return // everything nearer the front is more recent still
		}
		l.lru.Remove(e)
		delete(l.buckets, b.key)
	}
}

func (l *RateLimiter) removeOldest() {
	if e := l.lru.Back(); e != nil {
		l.lru.Remove(e)
		delete(l.buckets, e.Value.(*bucket).key)
	}
}

// Len returns the number of buckets held.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Reset forgets key, e.g. after an administrator unblocks a kiosk.
func (l *RateLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.buckets[key]; ok {
		l.lru.Remove(e)
		delete(l.buckets, key)
	}
}
