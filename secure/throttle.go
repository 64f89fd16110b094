package secure

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ThrottleState is what the login throttle remembers about one key (an
// account or an IP address). Three plain fields, so a database table can hold
// it as three columns.
type ThrottleState struct {
	Failures    int       // failed attempts in the current window
	WindowStart time.Time // first failure of the current window
	LockedUntil time.Time // zero when not locked
}

// ThrottleStore keeps ThrottleStates. MemoryThrottleStore serves a single
// server; a store backed by the shared database lets several servers enforce
// one limit. Update must be atomic per key (a transaction with a row lock, or
// a mutex): with a read-then-write, parallel guesses would all see the same
// count and slip past the limit together.
type ThrottleStore interface {
	// Get returns the state of key, or the zero state if none is stored.
	Get(ctx context.Context, key string) (ThrottleState, error)
	// Update applies fn to the state of key atomically and stores the result;
	// a result equal to the zero state may be deleted instead of stored.
	Update(ctx context.Context, key string, fn func(*ThrottleState)) (ThrottleState, error)
	// Delete forgets key.
	Delete(ctx context.Context, key string) error
}

// ThrottleRule is a limit for one kind of key.
type ThrottleRule struct {
	MaxFailures int           // failures within Window that trigger a lock
	Window      time.Duration // how far back failures count
	Lockout     time.Duration // how long a lock lasts
}

// LockedError is returned by Check while a key is locked. Its message is safe
// to show: a lock is applied to any submitted email, existing or not, so it
// says nothing about which accounts exist.
type LockedError struct {
	Until time.Time
	ByIP  bool // the client address, rather than the account, is locked
}

func (e *LockedError) Error() string {
	return "too many failed sign-in attempts; try again later"
}

// RetryAfter is how long until the lock ends, for a Retry-After header.
func (e *LockedError) RetryAfter(now time.Time) time.Duration {
	if d := e.Until.Sub(now); d > 0 {
		return d
	}
	return 0
}

// LoginThrottle limits password guessing per account and per client IP. The
// account rule stops a slow, targeted attack on one person; the IP rule stops
// one client spraying a few guesses over many accounts.
type LoginThrottle struct {
	Store   ThrottleStore
	Account ThrottleRule
	IP      ThrottleRule
	Now     func() time.Time // injectable clock; time.Now when nil
}

// NewLoginThrottle returns the default policy over an in-memory store:
// 5 failures per account in 15 minutes lock it for 15 minutes; 20 failures
// from one IP in 15 minutes lock that IP for 15 minutes.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{
		Store:   NewMemoryThrottleStore(0),
		Account: ThrottleRule{MaxFailures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
		IP:      ThrottleRule{MaxFailures: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute},
	}
}

func (t *LoginThrottle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Keys carry a kind prefix so an account named like an IP cannot collide
// with one, and accounts are normalised so "Admin@X" and "admin@x" share a
// counter.
func accountKey(account string) string {
	return "acct:" + strings.ToLower(strings.TrimSpace(account))
}
func ipKey(ip string) string { return "ip:" + ip }

// Check returns a *LockedError if the account or the IP is locked, and nil if
// a login attempt may go ahead. Call it before verifying the password, so a
// locked account costs the attacker a request but no bcrypt comparison and
// gives no answer; an empty ip skips the IP rule.
func (t *LoginThrottle) Check(ctx context.Context, account, ip string) error {
	now := t.now()
	if ip != "" {
		s, err := t.Store.Get(ctx, ipKey(ip))
		if err != nil {
			return fmt.Errorf("secure: throttle check: %w", err)
		}
		if now.Before(s.LockedUntil) {
			return &LockedError{Until: s.LockedUntil, ByIP: true}
		}
	}
	s, err := t.Store.Get(ctx, accountKey(account))
	if err != nil {
		return fmt.Errorf("secure: throttle check: %w", err)
	}
	if now.Before(s.LockedUntil) {
		return &LockedError{Until: s.LockedUntil}
	}
	return nil
}

// Failure records a failed attempt against the account and the IP and
// returns a *LockedError if this failure caused or hit a lock.
func (t *LoginThrottle) Failure(ctx context.Context, account, ip string) error {
	now := t.now()
	var locked error
	if ip != "" {
		s, err := t.Store.Update(ctx, ipKey(ip), func(s *ThrottleState) { t.IP.fail(s, now) })
		if err != nil {
			return fmt.Errorf("secure: throttle failure: %w", err)
		}
		if now.Before(s.LockedUntil) {
			locked = &LockedError{Until: s.LockedUntil, ByIP: true}
		}
	}
	s, err := t.Store.Update(ctx, accountKey(account), func(s *ThrottleState) { t.Account.fail(s, now) })
	if err != nil {
		return fmt.Errorf("secure: throttle failure: %w", err)
	}
	if now.Before(s.LockedUntil) {
		locked = &LockedError{Until: s.LockedUntil}
	}
	return locked
}

func (r ThrottleRule) fail(s *ThrottleState, now time.Time) {
	if now.Before(s.LockedUntil) {
		return // attempts during a lock neither extend nor count toward it
	}
	if s.Failures == 0 || now.Sub(s.WindowStart) >= r.Window {
		*s = ThrottleState{WindowStart: now}
	}
	s.Failures++
	if s.Failures >= r.MaxFailures {
		// A fresh window after the lock: one more wrong guess after it
		// expires must not lock again straight away.
		*s = ThrottleState{LockedUntil: now.Add(r.Lockout)}
	}
}

// Success forgets the account's failures after a correct password. The IP's
// failures stay: otherwise an attacker holding one valid account could log in
// with it between guesses and never reach the IP limit.
func (t *LoginThrottle) Success(ctx context.Context, account string) error {
	if err := t.Store.Delete(ctx, accountKey(account)); err != nil {
		return fmt.Errorf("secure: throttle success: %w", err)
	}
	return nil
}

// Clear lifts a lock on an account, for an administrator.
func (t *LoginThrottle) Clear(ctx context.Context, account string) error {
	if err := t.Store.Delete(ctx, accountKey(account)); err != nil {
		return fmt.Errorf("secure: throttle clear: %w", err)
	}
	return nil
}

// ClearIP lifts a lock on a client address, for an administrator.
func (t *LoginThrottle) ClearIP(ctx context.Context, ip string) error {
	if err := t.Store.Delete(ctx, ipKey(ip)); err != nil {
		return fmt.Errorf("secure: throttle clear ip: %w", err)
	}
	return nil
}

// MemoryThrottleStore is a ThrottleStore in process memory. It forgets
// everything on restart, which only gives an attacker a fresh 5 guesses per
// restart, and it is bounded: see NewMemoryThrottleStore.
type MemoryThrottleStore struct {
	mu      sync.Mutex
	states  map[string]ThrottleState
	max     int
	Now     func() time.Time // for deciding what is stale; time.Now when nil
	horizon time.Duration
}

// NewMemoryThrottleStore returns a store holding at most maxKeys keys (100,000
// when maxKeys <= 0, a few megabytes). When full, states that no longer matter
// (window over, not locked) are dropped first; if it is still full, unlocked
// states are dropped, so an attacker flooding it with addresses can at worst
// reset counters, never lift a lock.
func NewMemoryThrottleStore(maxKeys int) *MemoryThrottleStore {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	return &MemoryThrottleStore{states: make(map[string]ThrottleState), max: maxKeys, horizon: 24 * time.Hour}
}

func (m *MemoryThrottleStore) Get(_ context.Context, key string) (ThrottleState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[key], nil
}

func (m *MemoryThrottleStore) Update(_ context.Context, key string, fn func(*ThrottleState)) (ThrottleState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, exists := m.states[key]
	fn(&s)
	if s == (ThrottleState{}) {
		delete(m.states, key)
		return s, nil
	}
	if !exists && len(m.states) >= m.max {
		m.evict()
	}
	m.states[key] = s
	return s, nil
}

func (m *MemoryThrottleStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, key)
	return nil
}

// Len returns the number of keys held.
func (m *MemoryThrottleStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.states)
}

// evict makes room; the store does not know the rules' windows, so "stale"
// means older than a horizon longer than any sensible window.
func (m *MemoryThrottleStore) evict() {
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	for k, s := range m.states {
		if !now.Before(s.LockedUntil) && now.Sub(s.WindowStart) > m.horizon {
			delete(m.states, k)
		}
	}
	// Drop to 90% so a flood does not pay a full scan on every insert.
	for k, s := range m.states {
		if len(m.states) < m.max*9/10 {
			return
		}
		if !now.Before(s.LockedUntil) {
			delete(m.states, k)
		}
	}
}
