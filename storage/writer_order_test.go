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

// openBatches is two instances of one clinic on PostgreSQL, with instance
// A's batch held open after it took its seq (a transaction of the test
// holds the row of the invitation A's response uses) and instance B's later
// response committed.
type openBatches struct {
	a, b  *storage.Store
	db    *sql.DB
	hold  *sql.Tx
	ra    *storage.NewResponse
	idB   string
	doneA chan error // A's submission, once hold ends
	pidA  int        // A's backend, waiting for hold
}

func holdBatchA(t *testing.T, tag string) *openBatches {
	t.Helper()
	url := storagetest.PostgresURL(t)
	ctx := context.Background()
	o := &openBatches{a: openPostgres(t, url), doneA: make(chan error, 1)}
	if err := o.a.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	o.b = openPostgres(t, url)
	hash := "hash-" + tag
	if err := o.a.CreateInvitations(ctx, []storage.Invitation{{TokenHash: hash, Survey: "fft", Site: "main",
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}}); err != nil {
		t.Fatal(err)
	}
	var err error
	if o.db, err = sql.Open("pgx", url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.db.Close() })
	if o.hold, err = o.db.BeginTx(ctx, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.hold.Rollback() })
	var holder int
	if err := o.hold.QueryRowContext(ctx, "SELECT pg_backend_pid() FROM invitations WHERE token_hash = $1 FOR UPDATE", hash).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	o.ra = newResponse("a0000000-0000-4000-8000-0000000000"+tag[:2], 1, "from A")
	o.ra.Channel, o.ra.InvitationHash = "invite", hash
	go func() {
		rec, err := o.a.SubmitResponse(ctx, o.ra)
		if err == nil && rec.Outcome != storage.Created {
			err = fmt.Errorf("outcome %v", rec.Outcome)
		}
		o.doneA <- err
	}()
	// A waits for the invitation's row, its response row (and seq) taken.
	waitUntil(t, "A's batch to wait for the held invitation", nil, func() bool {
		var ok bool
		o.pidA, ok = o.blockedBy(holder)
		return ok
	})
	o.idB = "b0000000-0000-4000-8000-0000000000" + tag[:2]
	if rec, err := o.b.SubmitResponse(ctx, newResponse(o.idB, 4, "from B")); err != nil || rec.Outcome != storage.Created {
		t.Fatalf("B, while A's batch is open: %+v %v", rec, err)
	}
	return o
}

// blockedBy returns a backend waiting for a lock pid holds.
func (o *openBatches) blockedBy(pid int) (int, bool) {
	var p int
	err := o.db.QueryRow("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) LIMIT 1", pid).Scan(&p)
	return p, err == nil
}

// finish runs read in the background, waits until it has returned or is
// waiting for A's batch, lets A commit, and returns read's error.
func (o *openBatches) finish(t *testing.T, what string, read func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- read() }()
	var readErr *error
	waitUntil(t, what+" to end or to wait for A's batch", func() bool {
		select {
		case err := <-done:
			readErr = &err
			return true
		default:
			return false
		}
	}, func() bool {
		_, ok := o.blockedBy(o.pidA)
		return ok
	})
	if err := o.hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-o.doneA; err != nil {
		t.Fatalf("A: %v", err)
	}
	if readErr == nil {
		err := <-done
		readErr = &err
	}
	return *readErr
}

// TestSeqCursorTwoWriters reads a page while instance A's batch is open
// and B's later one has committed; then lets A finish. The reader's cursor
// must not have passed A's row: without the batch order lock
// (writer_order.go) the page shows B's response, and A's, with the lower
// seq, is never read. With it the page waits for A's batch. No timing: the
// test waits on locks PostgreSQL reports.
func TestSeqCursorTwoWriters(t *testing.T) {
	ctx := context.Background()
	o := holdBatchA(t, "0a-order")
	seen := map[string]int64{}
	comments := map[string]bool{}
	var cursor int64
	var ccursor storage.CommentKey
	read := func() error {
		page, err := o.a.ResponsesPage(ctx, storage.ResponseFilter{}, storage.PageOptions{After: cursor, Limit: 100})
		if err != nil {
			return err
		}
		for _, r := range page {
			seen[r.ID], cursor = r.Seq, r.Seq
		}
		cs, err := o.b.CommentsPage(ctx, storage.ResponseFilter{}, ccursor, 100)
		if err != nil {
			return err
		}
		for _, c := range cs {
			comments[c.ResponseID], ccursor = true, storage.CommentKey{Seq: c.Seq, Question: c.Question}
		}
		return nil
	}
	if err := o.finish(t, "the page", read); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{o.ra.ID, o.idB} {
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
	ctx := context.Background()
	o := holdBatchA(t, "e1-export")
	got := map[string]bool{}
	err := o.finish(t, "the export", func() error {
		return o.b.EachResponse(ctx, storage.ResponseFilter{}, storage.PageOptions{}, func(page []storage.ExportResponse) error {
			for _, r := range page {
				got[r.ID] = true
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got[o.idB] {
		t.Errorf("export missed B's response, committed before it began")
	}
	if !got[o.ra.ID] {
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
