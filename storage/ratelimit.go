package storage

import (
	"context"
	"fmt"
	"math"
	"time"
)

// SharedRateLimits says whether TakeRateToken is available: on PostgreSQL,
// where several instances may serve one clinic. SQLite is one process,
// whose limits stay in its memory (secure.RateLimiter).
func (s *Store) SharedRateLimits() bool { return s.dialect == "postgres" }

// takeToken is one atomic statement: the row is created and charged, or
// locked, refilled and charged, so that two instances taking a token of one
// key at the same moment are serialised by the row lock and cannot both
// spend the last one. It is a GCRA bucket (migration 0011) in integer
// microseconds, so that no rounding drifts: $2 is the time one token takes
// to refill, $3 the time a full bucket holds (burst × $2). excluded.tat is
// now + $2, the charged tat of a full bucket; a request is allowed when the
// charged tat, GREATEST(b.tat, now) + $2, is no further than $3 ahead of
// now. A new key starts full, and burst ≥ 1 lets its first request pass.
// The clock is the database's (statement_timestamp(), one value for the
// whole statement), so instances whose clocks differ agree; tat never moves
// back, so a statement whose timestamp is older than a concurrent one's
// cannot mint tokens.
const takeToken = `INSERT INTO rate_buckets AS b (key, tat, ok)
	VALUES ($1, (extract(epoch FROM statement_timestamp()) * 1000000)::bigint + $2, true)
	ON CONFLICT (key) DO UPDATE SET
	ok = GREATEST(b.tat + $2, excluded.tat) <= excluded.tat - $2 + $3,
	tat = CASE WHEN GREATEST(b.tat + $2, excluded.tat) <= excluded.tat - $2 + $3
		THEN GREATEST(b.tat + $2, excluded.tat) ELSE b.tat END
	RETURNING ok, tat - (extract(epoch FROM statement_timestamp()) * 1000000)::bigint`

// pruneBuckets drops full buckets: a row whose tat has passed says nothing
// that a missing row would not.
const pruneBuckets = `DELETE FROM rate_buckets WHERE tat < (extract(epoch FROM statement_timestamp()) * 1000000)::bigint`

// pruneRateEvery is how often one instance prunes rate_buckets: the table
// then holds about the keys seen in the last minute plus those whose bucket
// is still refilling (a minute at the default limits).
const pruneRateEvery = time.Minute

// TakeRateToken takes one token from the shared bucket of key, which refills
// at perSecond up to burst. When none is left it returns false and how long
// until one is, for a Retry-After header. It runs one statement; about once
// a minute an instance's call also prunes full buckets first, so the table
// stays as small as the set of clients seen lately. PostgreSQL only
// (SharedRateLimits).
func (s *Store) TakeRateToken(ctx context.Context, key string, perSecond float64, burst int) (ok bool, retryAfter time.Duration, err error) {
	if s.dialect != "postgres" {
		return false, 0, fmt.Errorf("storage: shared rate limits need PostgreSQL: %w", ErrInvalid)
	}
	interval := math.Max(1, math.Round(1e6/perSecond)) // µs a token
	full := interval * float64(burst)                  // µs a full bucket
	if !(perSecond > 0) || burst < 1 || math.IsInf(perSecond, 0) || full > 1<<52 {
		return false, 0, fmt.Errorf("storage: rate %v/s with burst %d: %w", perSecond, burst, ErrInvalid)
	}
	s.maybePruneRateBuckets(ctx)
	var ahead int64 // tat - now, µs
	if err := s.wdb.QueryRowContext(ctx, takeToken, key, int64(interval), int64(full)).Scan(&ok, &ahead); err != nil {
		return false, 0, fmt.Errorf("storage: take rate token: %w", err)
	}
	if ok {
		return true, 0, nil
	}
	// Refused, tat unchanged: the next token fits once now has moved on to
	// tat + interval - full.
	wait := max(ahead+int64(interval)-int64(full), 1)
	return false, time.Duration(wait) * time.Microsecond, nil
}

// maybePruneRateBuckets prunes when this Store has not for pruneRateEvery.
// A failure is logged, not returned: the token's own statement reports a
// database that is away, and a prune missed is done a minute later.
func (s *Store) maybePruneRateBuckets(ctx context.Context) {
	now := time.Now().UnixNano()
	last := s.ratePruned.Load()
	if now-last < int64(pruneRateEvery) || !s.ratePruned.CompareAndSwap(last, now) {
		return
	}
	if _, err := s.PruneRateBuckets(ctx); err != nil {
		s.log.Warn("rate limits: prune", "err", err)
	}
}

// PruneRateBuckets deletes the shared rate buckets that have refilled
// completely and returns how many went. TakeRateToken calls it about once a
// minute; it is exported for tests and for an operator's tooling.
func (s *Store) PruneRateBuckets(ctx context.Context) (int64, error) {
	if s.dialect != "postgres" {
		return 0, nil
	}
	res, err := s.wdb.ExecContext(ctx, pruneBuckets)
	if err != nil {
		return 0, fmt.Errorf("storage: prune rate buckets: %w", err)
	}
	return res.RowsAffected()
}
