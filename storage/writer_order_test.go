package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// openPostgres opens a second (or first) store on the schema of url, as a
// second instance of the clinic would.
func openPostgres(t *testing.T, url string) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Config{DatabaseURL: url, Logger: storagetest.Quiet, CommitDelay: storagetest.CommitDelay})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSeqCursorTwoWriters holds instance A's batch open after it took its
// seq (a transaction of the test holds the row of the invitation A uses),
// lets instance B submit and commit, and reads a page meanwhile; then lets A
// finish. The reader's cursor must not have passed A's row: without the
// batch order lock (writer_order.go) the page shows B's response, and A's,
// with the lower seq, is never read. With it the page waits for A's batch.
// No timing: the test waits on locks PostgreSQL reports.
func TestSeqCursorTwoWriters(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	a := openPostgres(t, url)
	if err := a.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	b := openPostgres(t, url)
	if err := a.CreateInvitations(ctx, []storage.Invitation{{TokenHash: "hash-order", Survey: "fft", Site: "main",
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hold, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	var holder int
	if err := hold.QueryRowContext(ctx, "SELECT pg_backend_pid() FROM invitations WHERE token_hash = 'hash-order' FOR UPDATE").Scan(&holder); err != nil {
		t.Fatal(err)
	}
	blockedBy := func(pid int) (int, bool) {
		var p int
		err := db.QueryRowContext(ctx, "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) LIMIT 1", pid).Scan(&p)
		return p, err == nil
	}

	ra := newResponse("a0000000-0000-4000-8000-00000000000a", 1, "from A")
	ra.Channel, ra.InvitationHash = "invite", "hash-order"
	doneA := make(chan error, 1)
	go func() {
		rec, err := a.SubmitResponse(ctx, ra)
		if err == nil && rec.Outcome != storage.Created {
			err = fmt.Errorf("outcome %v", rec.Outcome)
		}
		doneA <- err
	}()
	// A waits for the invitation's row, its response row (and seq) taken.
	var pidA int
	waitUntil(t, "A's batch to wait for the held invitation", nil, func() bool {
		var ok bool
		pidA, ok = blockedBy(holder)
		return ok
	})
	idB := "b0000000-0000-4000-8000-00000000000b"
	if rec, err := b.SubmitResponse(ctx, newResponse(idB, 4, "from B")); err != nil || rec.Outcome != storage.Created {
		t.Fatalf("B, while A's batch is open: %+v %v", rec, err)
	}

	seen := map[string]int64{}
	comments := map[string]bool{}
	var cursor int64
	var ccursor storage.CommentKey
	read := func() error {
		page, err := a.ResponsesPage(ctx, storage.ResponseFilter{}, storage.PageOptions{After: cursor, Limit: 100})
		if err != nil {
			return err
		}
		for _, r := range page {
			seen[r.ID], cursor = r.Seq, r.Seq
		}
		cs, err := b.CommentsPage(ctx, storage.ResponseFilter{}, ccursor, 100)
		if err != nil {
			return err
		}
		for _, c := range cs {
			comments[c.ResponseID], ccursor = true, storage.CommentKey{Seq: c.Seq, Question: c.Question}
		}
		return nil
	}
	// A page read while A's batch is open either returns (no order lock)
	// or waits for that batch.
	readDone := make(chan error, 1)
	go func() { readDone <- read() }()
	var readErr *error
	waitUntil(t, "the page to be read or to wait for A's batch", func() bool {
		select {
		case err := <-readDone:
			readErr = &err
			return true
		default:
			return false
		}
	}, func() bool {
		_, ok := blockedBy(pidA)
		return ok
	})
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-doneA; err != nil {
		t.Fatalf("A: %v", err)
	}
	if readErr == nil {
		err := <-readDone
		readErr = &err
	}
	if *readErr != nil {
		t.Fatal(*readErr)
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ra.ID, idB} {
		if _, ok := seen[id]; !ok {
			t.Errorf("responses cursor skipped %s (seqs seen %v, cursor %d)", id, seen, cursor)
		}
		if !comments[id] {
			t.Errorf("comments cursor skipped %s's comment (cursor %+v)", id, ccursor)
		}
	}
}

// TestExportHorizonTwoWriters: an export that starts while instance A's
// batch is open (its seq taken) and B's later one has committed covers
// both, as the horizon it reads first waits for A.
func TestExportHorizonTwoWriters(t *testing.T) {
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	a := openPostgres(t, url)
	if err := a.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	b := openPostgres(t, url)
	if err := a.CreateInvitations(ctx, []storage.Invitation{{TokenHash: "hash-export", Survey: "fft", Site: "main",
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hold, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	var holder int
	if err := hold.QueryRowContext(ctx, "SELECT pg_backend_pid() FROM invitations WHERE token_hash = 'hash-export' FOR UPDATE").Scan(&holder); err != nil {
		t.Fatal(err)
	}
	ra := newResponse("a0000000-0000-4000-8000-0000000000e1", 1, "from A")
	ra.Channel, ra.InvitationHash = "invite", "hash-export"
	doneA := make(chan error, 1)
	go func() { _, err := a.SubmitResponse(ctx, ra); doneA <- err }()
	var pidA int
	waitUntil(t, "A's batch to wait for the held invitation", nil, func() bool {
		return db.QueryRowContext(ctx, "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder).Scan(&pidA) == nil
	})
	idB := "b0000000-0000-4000-8000-0000000000e2"
	if _, err := b.SubmitResponse(ctx, newResponse(idB, 4, "from B")); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	exported := make(chan error, 1)
	go func() {
		exported <- b.EachResponse(ctx, storage.ResponseFilter{}, storage.PageOptions{}, func(page []storage.ExportResponse) error {
			for _, r := range page {
				got[r.ID] = true
			}
			return nil
		})
	}()
	var expErr *error
	waitUntil(t, "the export to end or to wait for A's batch", func() bool {
		select {
		case err := <-exported:
			expErr = &err
			return true
		default:
			return false
		}
	}, func() bool {
		var n int
		db.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", pidA).Scan(&n)
		return n > 0
	})
	hold.Rollback()
	if err := <-doneA; err != nil {
		t.Fatalf("A: %v", err)
	}
	if expErr == nil {
		err := <-exported
		expErr = &err
	}
	if *expErr != nil {
		t.Fatal(*expErr)
	}
	if !got[idB] {
		t.Errorf("export missed B's response, committed before it began")
	}
	if !got[ra.ID] {
		// Not a skip (an export covers what was stored before it began),
		// but with the horizon A's batch, open at the start, is waited for.
		t.Errorf("export missed A's response, whose seq is below B's")
	}
}

// waitUntil polls cond (and done, which ends the wait early) for up to ten
// seconds: what it waits for is a lock wait PostgreSQL reports, not a
// moment in time.
func waitUntil(t *testing.T, what string, done, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if (done != nil && done()) || cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
