package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestBatchMixedOutcomes sends, all at once, submissions that the group
// writer commits together: good ones, one invitation used five times,
// one response retried five times and one that breaks a constraint. Each
// must get its own outcome and no failure may spill onto the others.
func TestBatchMixedOutcomes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		inv := storage.Invitation{TokenHash: "hash-mixed", Survey: "fft", Site: "main",
			ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}
		if err := s.CreateInvitations(ctx, []storage.Invitation{inv}); err != nil {
			t.Fatal(err)
		}
		type result struct {
			kind string
			rec  storage.Receipt
			err  error
		}
		var wg sync.WaitGroup
		results := make(chan result, 64)
		send := func(kind string, r *storage.NewResponse) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := s.SubmitResponse(ctx, r)
				results <- result{kind, rec, err}
			}()
		}
		for round := 0; round < 3; round++ { // several rounds: several batch shapes
			for i := 0; i < 10; i++ {
				send("good", newResponse(fmt.Sprintf("6f1c1d0e-2222-4a4a-9b9b-%03d%09d", round, i), 2, "fine"))
			}
			for i := 0; i < 5; i++ {
				r := newResponse(fmt.Sprintf("6f1c1d0e-3333-4a4a-9b9b-%03d%09d", round, i), 1, "invited")
				r.InvitationHash = "hash-mixed"
				send("invite", r)
			}
			for i := 0; i < 5; i++ {
				send("retry", newResponse(fmt.Sprintf("6f1c1d0e-4444-4a4a-9b9b-%012d", round), 3, "again"))
			}
			bad := newResponse(fmt.Sprintf("6f1c1d0e-5555-4a4a-9b9b-%012d", round), 1, "bad")
			bad.Site = "nowhere" // breaks the foreign key
			send("bad", bad)
		}
		wg.Wait()
		close(results)
		count := map[string]map[string]int{}
		for r := range results {
			if count[r.kind] == nil {
				count[r.kind] = map[string]int{}
			}
			switch {
			case errors.Is(r.err, storage.ErrInvitationUsed):
				count[r.kind]["used"]++
			case r.err != nil:
				count[r.kind]["error"]++
			case r.rec.Outcome == storage.Created:
				count[r.kind]["created"]++
			case r.rec.Outcome == storage.Duplicate:
				count[r.kind]["duplicate"]++
			default:
				count[r.kind]["other"]++
			}
		}
		want := map[string]map[string]int{
			"good":   {"created": 30},
			"invite": {"created": 1, "used": 14},
			"retry":  {"created": 3, "duplicate": 12},
			"bad":    {"error": 3},
		}
		for kind, w := range want {
			if fmt.Sprint(count[kind]) != fmt.Sprint(w) {
				t.Errorf("%s: got %v, want %v", kind, count[kind], w)
			}
		}
		n, err := s.CountResponses(ctx)
		if err != nil || n != 34 {
			t.Errorf("stored %d responses (%v), want 34", n, err)
		}
	})
}

func TestCountResponseIDs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		var ids []string
		for i := 0; i < 700; i++ { // more than one IN (...) chunk
			ids = append(ids, fmt.Sprintf("6f1c1d0e-6666-4a4a-9b9b-%012d", i))
		}
		var wg sync.WaitGroup
		for _, id := range ids[:600] {
			wg.Add(1)
			go func() { defer wg.Done(); s.SubmitResponse(ctx, newResponse(id, 1, "ok")) }()
		}
		wg.Wait()
		got, err := s.CountResponseIDs(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if want := map[bool]int{true: 1, false: 0}[i < 600]; got[id] != want {
				t.Fatalf("id %d: count %d, want %d", i, got[id], want)
			}
		}
	})
}

func TestBackup(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		out := filepath.Join(t.TempDir(), "copy.db")
		if s.Dialect() == "postgres" {
			if _, err := s.Backup(ctx, out); !errors.Is(err, storage.ErrBackupPostgres) {
				t.Fatalf("backup on PostgreSQL: got %v, want ErrBackupPostgres", err)
			}
			return
		}
		for i := 0; i < 20; i++ {
			if _, err := s.SubmitResponse(ctx, newResponse(fmt.Sprintf("6f1c1d0e-7777-4a4a-9b9b-%012d", i), 1, "ok")); err != nil {
				t.Fatal(err)
			}
		}
		info, err := s.Backup(ctx, out)
		if err != nil {
			t.Fatal(err)
		}
		if info.Responses != 20 || info.Bytes == 0 {
			t.Errorf("backup info %+v, want 20 responses", info)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("backup mode %o, want 600", fi.Mode().Perm())
		}
		if _, err := s.Backup(ctx, out); err == nil {
			t.Error("a second backup over the first succeeded; want a refusal")
		}
		copyStore, err := storage.Open(ctx, storage.Config{SQLitePath: out, Logger: storagetest.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer copyStore.Close()
		if res, err := copyStore.IntegrityCheck(ctx); err != nil || res != "ok" {
			t.Errorf("integrity_check of the copy: %q %v", res, err)
		}
		if n, _ := copyStore.CountResponses(ctx); n != 20 {
			t.Errorf("copy holds %d responses, want 20", n)
		}
	})
}

// TestQueueFullIsBusy: when the writer cannot keep up, a submission beyond
// the queue's bound is refused at once with ErrBusy (the API's 503 and
// Retry-After) instead of waiting in memory; queued ones still commit.
func TestQueueFullIsBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "carevoice.db")
	s, err := storage.Open(ctx, storage.Config{SQLitePath: path, QueueMax: 1, BatchMax: 1, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	// Another connection holds the write lock, so the writer's next
	// transaction waits (busy timeout) and the queue cannot drain.
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	submit := func(i int) {
		rec, err := s.SubmitResponse(ctx, newResponse(fmt.Sprintf("6f1c1d0e-8888-4a4a-9b9b-%012d", i), 1, fmt.Sprint("ok", i)))
		if err == nil && rec.Outcome != storage.Created {
			err = fmt.Errorf("outcome %v", rec.Outcome)
		}
		errs <- err
	}
	go submit(1)
	waitWriter(t, s, 1, 0) // the writer took it and waits for the lock
	go submit(2)
	waitWriter(t, s, 2, 1) // the queue is full
	if _, err := s.SubmitResponse(ctx, newResponse("6f1c1d0e-8888-4a4a-9b9b-000000000003", 1, "ok")); !errors.Is(err, storage.ErrBusy) {
		t.Fatalf("submission over a full queue: got %v, want ErrBusy", err)
	}
	if st := s.WriterStats(); st.Rejected != 1 || st.QueueCap != 1 {
		t.Errorf("writer stats %+v, want 1 rejected of capacity 1", st)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("queued submission: %v", err)
		}
	}
	if n, _ := s.CountResponses(ctx); n != 2 {
		t.Errorf("stored %d, want the 2 queued", n)
	}
}

// waitWriter waits until accepted submissions were queued and depth of them
// are still waiting for the writer.
func waitWriter(t *testing.T, s *storage.Store, accepted int64, depth int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for st := s.WriterStats(); st.Accepted != accepted || st.QueueDepth != depth; st = s.WriterStats() {
		if time.Now().After(deadline) {
			t.Fatalf("writer %+v, want %d accepted and %d waiting", st, accepted, depth)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatchCaseIDs submits many responses that open cases at once, so that
// they share batches (one multi-row insert of cases), and checks that the
// id each submission is given is the id of its own case, with its contact.
func TestBatchCaseIDs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		const n = 40
		rs := make([]*storage.NewResponse, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range rs {
			r := newResponse(fmt.Sprintf("6f1c1d0e-7777-4a4a-9b9b-%012d", i), 5, fmt.Sprintf("case %d", i))
			r.Case = &storage.NewCase{Reason: fmt.Sprintf("reason-%d", i), DueAt: int64(1000 + i)}
			if i%3 == 0 {
				r.Contact, r.WantsContact = []byte(fmt.Sprintf("sealed-%d", i)), true
			}
			rs[i] = r
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.SubmitResponse(ctx, r); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for i, r := range rs {
			if r.Case.ID == 0 || seen[r.Case.ID] {
				t.Fatalf("response %d: case id %d (zero or given twice)", i, r.Case.ID)
			}
			seen[r.Case.ID] = true
			c, err := s.CaseByID(ctx, r.Case.ID)
			if err != nil {
				t.Fatal(err)
			}
			if c.ResponseID != r.ID || c.Reason() != r.Case.Reason || c.DueAt.UnixMilli() != r.Case.DueAt {
				t.Fatalf("response %d got case %+v", i, c)
			}
			sealed, _, err := s.CaseContact(ctx, r.Case.ID)
			if i%3 == 0 && (err != nil || string(sealed) != fmt.Sprintf("sealed-%d", i)) {
				t.Fatalf("response %d: contact %q, %v", i, sealed, err)
			}
		}
	})
}
