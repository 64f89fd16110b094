package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestTakeRateToken takes tokens through two stores on one schema, as two
// instances would: they share one bucket per key.
func TestTakeRateToken(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	st := []*storage.Store{openPostgres(t, url), openPostgres(t, url)}
	if !st[0].SharedRateLimits() {
		t.Fatal("SharedRateLimits on PostgreSQL: false")
	}
	for _, c := range []struct {
		name      string
		perMinute float64
		burst     int
		want      []bool // alternate instances
		maxWait   time.Duration
	}{
		{"ThreeAMinute", 3, 3, []bool{true, true, true, false, false}, 20 * time.Second},
		{"OneAnHour", 1.0 / 60, 1, []bool{true, false}, time.Hour},
		{"BurstAboveRate", 6, 10, []bool{true, true, true, true, true, true, true, true, true, true, false}, 10 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := "test:" + c.name
			for i, want := range c.want {
				ok, wait, err := st[i%2].TakeRateToken(ctx, key, c.perMinute/60, c.burst)
				if err != nil {
					t.Fatal(err)
				}
				if ok != want {
					t.Fatalf("request %d (instance %d): got ok %v, want %v", i+1, i%2, ok, want)
				}
				if ok && wait != 0 {
					t.Errorf("request %d allowed with wait %v, want 0", i+1, wait)
				}
				if !ok && (wait <= 0 || wait > c.maxWait) {
					t.Errorf("request %d refused with wait %v, want 0 < wait <= %v", i+1, wait, c.maxWait)
				}
			}
			// Another key has its own bucket.
			if ok, _, err := st[1].TakeRateToken(ctx, key+"-other", c.perMinute/60, c.burst); err != nil || !ok {
				t.Errorf("another key: ok %v, %v; want a token", ok, err)
			}
		})
	}

	t.Run("Concurrent", func(t *testing.T) {
		// 40 requests at once over both instances: exactly the burst passes.
		var got atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := st[i%2].TakeRateToken(ctx, "test:concurrent", 1.0/3600, 5)
				if err != nil {
					t.Error(err)
				}
				if ok {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		if got.Load() != 5 {
			t.Errorf("%d of 40 concurrent requests passed a burst of 5", got.Load())
		}
	})

	t.Run("BadRates", func(t *testing.T) {
		for _, c := range []struct {
			perSecond float64
			burst     int
		}{{0, 1}, {-1, 1}, {1, 0}, {1e-12, 1 << 30}} {
			if _, _, err := st[0].TakeRateToken(ctx, "test:bad", c.perSecond, c.burst); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("TakeRateToken(%v/s, burst %d): %v, want ErrInvalid", c.perSecond, c.burst, err)
			}
		}
	})
}

// TestPruneRateBuckets drops the buckets that are full again and keeps the
// ones still refilling.
func TestPruneRateBuckets(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	s := openPostgres(t, url)
	// The first call of a store prunes (an empty table): the calls below
	// then leave pruning to the explicit call.
	if _, _, err := s.TakeRateToken(ctx, "test:slow", 1.0/3600, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TakeRateToken(ctx, "test:fast", 1e6, 1); err != nil { // full again after 1 µs
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Wait until the database's clock has passed the fast bucket's refill.
	waitUntil(t, "the fast bucket to refill", nil, func() bool {
		var full bool
		db.QueryRowContext(ctx, "SELECT tat < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM rate_buckets WHERE key = 'test:fast'").Scan(&full)
		return full
	})
	n, err := s.PruneRateBuckets(ctx)
	if err != nil || n != 1 {
		t.Fatalf("prune: %d rows, %v; want 1", n, err)
	}
	var keys []string
	rows, err := db.QueryContext(ctx, "SELECT key FROM rate_buckets ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	rows.Close()
	if len(keys) != 1 || keys[0] != "test:slow" {
		t.Errorf("after prune: keys %v, want [test:slow]", keys)
	}
	// The slow key is still empty: pruning forgot nothing that mattered.
	if ok, _, err := s.TakeRateToken(ctx, "test:slow", 1.0/3600, 1); err != nil || ok {
		t.Errorf("slow key after prune: ok %v, %v; want refused", ok, err)
	}
}

func TestTakeRateTokenSQLite(t *testing.T) {
	s := storagetest.SQLite(t)
	if s.SharedRateLimits() {
		t.Error("SharedRateLimits on SQLite: true, want false (one process: memory buckets)")
	}
	if _, _, err := s.TakeRateToken(context.Background(), "k", 1, 1); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("TakeRateToken on SQLite: %v, want ErrInvalid", err)
	}
	if n, err := s.PruneRateBuckets(context.Background()); n != 0 || err != nil {
		t.Errorf("PruneRateBuckets on SQLite: %d, %v; want 0, nil", n, err)
	}
}
