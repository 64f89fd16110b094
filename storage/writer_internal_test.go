package storage

import (
	"strings"
	"testing"
	"time"
)

func TestMultiRowSQL(t *testing.T) {
	const up = "INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = t.b + excluded.b"
	for _, tc := range []struct {
		q    string
		rows int
		want string
	}{
		{up, 1, up},
		{up, 3, "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4),($5,$6) ON CONFLICT (a) DO UPDATE SET b = t.b + excluded.b"},
		{"INSERT INTO t (a)\n\tVALUES ($1)\n\tON CONFLICT (a) DO NOTHING", 2, "INSERT INTO t (a)\n\tVALUES ($1),($2)\n\tON CONFLICT (a) DO NOTHING"},
		{upsertTheme, 2, ""}, // checked below: 78 placeholders
	} {
		got, err := multiRowSQL(tc.q, tc.rows)
		if err != nil || (tc.want != "" && got != tc.want) {
			t.Errorf("multiRowSQL(%q, %d) = %q, %v; want %q", tc.q, tc.rows, got, err, tc.want)
		}
		if tc.q == upsertTheme && !containsAll(got, "$39),($40,", "$78)", "privacy_neg = rollup_themes.privacy_neg + excluded.privacy_neg") {
			t.Errorf("theme upsert of 2 rows: %q", got)
		}
	}
	if _, err := multiRowSQL("UPDATE t SET a = 1", 2); err == nil {
		t.Error("an UPDATE was rewritten")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestUpsertBufferChunks: rows go out in order, in power-of-two statements.
func TestUpsertBufferChunks(t *testing.T) {
	var u upsertBuffer
	const q = "INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO NOTHING"
	for i := 0; i < 75; i++ {
		if err := u.add(q, i); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int
	next := 0
	err := u.flush(func(mq string, args ...any) error {
		sizes = append(sizes, len(args))
		for _, a := range args {
			if a.(int) != next {
				t.Fatalf("row %v out of order, want %d", a, next)
			}
			next++
		}
		return nil
	})
	if err != nil || next != 75 || len(sizes) != 4 || sizes[0] != 64 || sizes[1] != 8 || sizes[2] != 2 || sizes[3] != 1 {
		t.Fatalf("flushed %v (%d rows), %v", sizes, next, err)
	}
	if err := u.add(q, 1, 2); err == nil {
		t.Error("a row of another width was taken")
	}
}

// TestLinger: a busy writer waits for more submissions until arrivals pause
// and, on SQLite, until the batch is as large as the last one (the convoy
// of clients it acknowledged is back); a quiet one never waits.
func TestLinger(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		convoy               bool
		last, have, queued   int
		delay                time.Duration
		wantBatch, wantQueue int
	}{
		{"quiet writer takes what it has", true, 3, 1, 5, time.Minute, 1, 5},
		{"no delay configured", true, 40, 1, 5, 0, 1, 5},
		{"stops at the last batch's size", true, 10, 1, 30, time.Minute, 10, 21},
		{"already as large as the last batch", true, 10, 10, 5, time.Minute, 10, 5},
		{"arrivals pause: the gap ends the wait", true, 40, 1, 3, 40 * time.Millisecond, 4, 0},
		{"PostgreSQL: no convoy stop", false, 10, 1, 30, 40 * time.Millisecond, 31, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &groupWriter{ch: make(chan *job, 64), batchMax: 512, delay: tc.delay, lastBatch: tc.last, convoy: tc.convoy}
			for i := 0; i < tc.queued; i++ {
				w.ch <- &job{}
			}
			batch := make([]*job, tc.have)
			start := time.Now()
			got := w.linger(batch)
			if len(got) != tc.wantBatch || len(w.ch) != tc.wantQueue {
				t.Errorf("batch %d, left queued %d; want %d, %d", len(got), len(w.ch), tc.wantBatch, tc.wantQueue)
			}
			if d := time.Since(start); d > 10*time.Second { // never the minute
				t.Errorf("waited %v", d)
			}
			if w.lastBatch != len(got) {
				t.Errorf("lastBatch %d, want %d", w.lastBatch, len(got))
			}
		})
	}

	// A convoy trickling in: the writer takes exactly its size, long before
	// the (one-minute) delay or its gap would end the wait.
	w := &groupWriter{ch: make(chan *job, 64), batchMax: 512, delay: time.Minute, lastBatch: 12, convoy: true}
	go func() {
		for i := 0; i < 20; i++ {
			w.ch <- &job{}
			time.Sleep(time.Millisecond)
		}
	}()
	if got := w.linger([]*job{{}}); len(got) != 12 {
		t.Errorf("convoy: batch of %d, want 12", len(got))
	}
}
