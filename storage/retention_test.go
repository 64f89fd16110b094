package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// rawEach runs f on a fresh SQLite store and (when configured) PostgreSQL,
// with a second plain connection to the same database, for checking what
// the store's methods cannot show (triggers, rollup rows).
func retEach(t *testing.T, f func(t *testing.T, s *storage.Store, db *sql.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cv.db")
		s := retOpen(t, storage.Config{SQLitePath: path, Logger: storagetest.Quiet})
		db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, s, db)
	})
	t.Run("postgres", func(t *testing.T) {
		u := storagetest.PostgresURL(t)
		s := retOpen(t, storage.Config{DatabaseURL: u, Logger: storagetest.Quiet})
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, s, db)
	})
}

func retOpen(t *testing.T, cfg storage.Config) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Seed(context.Background(), "UTC"); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	retEach(t, func(t *testing.T, s *storage.Store, db *sql.DB) {
		ctx := context.Background()
		if err := s.Audit(ctx, "user:a@example.org", "user.update", "b@example.org", map[string]string{"role": "admin"}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			"UPDATE audit_log SET actor = 'someone else'",
			"DELETE FROM audit_log",
		} {
			if _, err := db.Exec(q); err == nil {
				t.Errorf("%s: succeeded, want the trigger to refuse it", q)
			}
		}
		if s.Dialect() == "postgres" {
			if _, err := db.Exec("TRUNCATE audit_log"); err == nil {
				t.Error("TRUNCATE audit_log succeeded, want it refused")
			}
		}
		es, err := s.AuditLog(ctx, 0, 10)
		if err != nil || len(es) != 1 || es[0].Actor != "user:a@example.org" {
			t.Fatalf("audit log after attempts: %+v %v", es, err)
		}
		// Appending still works.
		if err := s.Audit(ctx, "cli", "x", "", nil); err != nil {
			t.Fatalf("append after trigger: %v", err)
		}
	})
}

func retRollup(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow("SELECT COALESCE(SUM(responses), 0) FROM rollup_daily").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func retCount(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func retSubmit(t *testing.T, s *storage.Store, id string, at time.Time, contact []byte) {
	t.Helper()
	r := newResponse(id, 2, "the wait in "+id)
	r.SubmittedAt, r.LocalDay, r.Contact, r.WantsContact = at, at.Format(time.DateOnly), contact, contact != nil
	if _, err := s.SubmitResponse(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionKeepsCounts(t *testing.T) {
	retEach(t, func(t *testing.T, s *storage.Store, db *sql.DB) {
		ctx := context.Background()
		now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
		old, recent := now.AddDate(0, -7, 0), now.AddDate(0, 0, -10)
		retSubmit(t, s, "00000000-0000-4000-8000-000000000001", old, []byte("sealed-old"))
		retSubmit(t, s, "00000000-0000-4000-8000-000000000002", recent, []byte("sealed-new"))
		before := retRollup(t, db)

		res, err := s.ApplyRetention(ctx, storage.Retention{ContactsBefore: now.AddDate(0, 0, -90), CommentsBefore: now.AddDate(0, -6, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Contacts != 1 || res.Comments != 1 {
			t.Errorf("removed %+v, want 1 contact and 1 comment", res)
		}
		if _, err := s.SealedContactOf(ctx, "00000000-0000-4000-8000-000000000001"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("old contact: %v, want deleted", err)
		}
		if c, err := s.SealedContactOf(ctx, "00000000-0000-4000-8000-000000000002"); err != nil || string(c) != "sealed-new" {
			t.Errorf("recent contact: %q %v, want kept", c, err)
		}
		r, err := s.ResponseByID(ctx, "00000000-0000-4000-8000-000000000001")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range r.Answers {
			if a.Type != "text" {
				continue
			}
			if a.Text != nil {
				t.Errorf("old comment text kept: %q", *a.Text)
			}
			if a.Analysis == nil || a.Analysis.Sentiment != "negative" || len(a.Analysis.Themes) != 0 {
				t.Errorf("old comment analysis %+v: want the label kept and the evidence gone", a.Analysis)
			}
		}
		if r, _ := s.ResponseByID(ctx, "00000000-0000-4000-8000-000000000002"); r.Answers[1].Text == nil {
			t.Error("recent comment text removed")
		}
		if after := retRollup(t, db); after != before || before != 2 {
			t.Errorf("rollup responses %d → %d, want 2 kept", before, after)
		}
		if n := retCount(t, db, "SELECT COUNT(*) FROM comment_themes"); n != 2 {
			t.Errorf("comment_themes rows %d, want 2 kept (theme counts are anonymous)", n)
		}
		// A second run finds nothing left to do.
		if res, err := s.ApplyRetention(ctx, storage.Retention{ContactsBefore: now.AddDate(0, 0, -90), CommentsBefore: now.AddDate(0, -6, 0)}); err != nil || res != (storage.RetentionResult{}) {
			t.Errorf("second run: %+v %v, want nothing", res, err)
		}
	})
}

func TestDeleteResponseKeepsRollups(t *testing.T) {
	retEach(t, func(t *testing.T, s *storage.Store, db *sql.DB) {
		ctx := context.Background()
		id := "00000000-0000-4000-8000-0000000000d1"
		retSubmit(t, s, id, time.Now(), []byte("sealed"))
		before := retRollup(t, db)
		if err := s.DeleteResponse(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResponseByID(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("read after delete: %v, want not found", err)
		}
		for _, q := range []string{"SELECT COUNT(*) FROM answers", "SELECT COUNT(*) FROM contacts", "SELECT COUNT(*) FROM comment_themes"} {
			if n := retCount(t, db, q); n != 0 {
				t.Errorf("%s = %d after delete, want 0", q, n)
			}
		}
		if after := retRollup(t, db); after != before {
			t.Errorf("rollup %d → %d, want kept", before, after)
		}
		if err := s.DeleteResponse(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("second delete: %v, want not found", err)
		}
	})
}

func TestResealContacts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		oldKey, newKey := secure.GenerateKey(), secure.GenerateKey()
		oldRing, _ := secure.NewKeyring(oldKey)
		ids := []string{"00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"}
		for _, id := range ids {
			sealed, err := oldRing.Seal([]byte(`{"name":"Ann"}`), []byte(id))
			if err != nil {
				t.Fatal(err)
			}
			retSubmit(t, s, id, time.Now(), sealed)
		}
		ring, _ := secure.NewKeyring(newKey, oldKey)
		reseal := func(c storage.SealedContact) ([]byte, bool, error) {
			if !ring.NeedsReseal(c.Sealed) {
				return nil, false, nil
			}
			out, err := ring.Reseal(c.Sealed, []byte(c.ResponseID))
			return out, err == nil, err
		}
		changed, total, err := s.ResealContacts(ctx, reseal)
		if err != nil || changed != 2 || total != 2 {
			t.Fatalf("reseal: changed %d of %d, %v; want 2 of 2", changed, total, err)
		}
		newOnly, _ := secure.NewKeyring(newKey)
		for _, id := range ids {
			c, err := s.SealedContactOf(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := newOnly.Open(c, []byte(id)); err != nil || string(pt) != `{"name":"Ann"}` {
				t.Errorf("%s: open with the new key alone: %q %v", id, pt, err)
			}
		}
		if changed, _, err := s.ResealContacts(ctx, reseal); err != nil || changed != 0 {
			t.Errorf("second run changed %d (%v), want 0", changed, err)
		}
	})
}

func TestThrottleStoreIsShared(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		th := secure.NewLoginThrottle()
		th.Store, th.Now = s.ThrottleStore(), clock
		// A second instance on the same database sees the same counts.
		other := secure.NewLoginThrottle()
		other.Store, other.Now = s.ThrottleStore(), clock
		for i := 0; i < 3; i++ {
			th.Failure(ctx, "Ann@Example.org", "10.0.0.1")
			other.Failure(ctx, "ann@example.org", "10.0.0.2")
		}
		var locked *secure.LockedError
		if err := other.Check(ctx, "ann@example.org", "10.0.0.9"); !errors.As(err, &locked) || locked.ByIP {
			t.Fatalf("after 6 failures over two instances: %v, want the account locked", err)
		}
		locks, err := s.Locks(ctx, now)
		if err != nil || len(locks) != 1 || locks[0].Kind != "account" || locks[0].Value != "ann@example.org" {
			t.Fatalf("locks %+v %v, want the account", locks, err)
		}
		if err := th.Clear(ctx, "ann@example.org"); err != nil {
			t.Fatal(err)
		}
		if err := other.Check(ctx, "ann@example.org", "10.0.0.9"); err != nil {
			t.Errorf("after an admin's clear: %v, want allowed", err)
		}
		// Parallel failures are each counted: Update is atomic per key.
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.ThrottleStore().Update(ctx, "ip:10.9.9.9", func(st *secure.ThrottleState) { st.Failures++ }); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if st, _ := s.ThrottleStore().Get(ctx, "ip:10.9.9.9"); st.Failures != 16 {
			t.Errorf("parallel failures counted %d, want 16", st.Failures)
		}
		if n, err := s.PruneThrottle(ctx, now.Add(time.Hour), now.Add(time.Minute)); err != nil || n == 0 {
			t.Errorf("prune: %d %v, want stale rows dropped", n, err)
		}
	})
}

func TestUserChangesEndSessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		u := &storage.User{Email: "m@example.org", PasswordHash: "x", Role: storage.RoleManager}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"s1", "s2", "s3"} {
			if err := s.CreateSession(ctx, h, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetPassword(ctx, u.ID, "y", "s2"); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountSessions(ctx, u.ID); n != 1 {
			t.Errorf("sessions after password change: %d, want only the one that changed it", n)
		}
		if _, _, err := s.SessionUser(ctx, "s2", time.Hour, time.Hour); err != nil {
			t.Errorf("the changing session: %v, want kept", err)
		}
		role, sites := storage.RoleQuality, "north"
		got, err := s.UpdateUser(ctx, u.ID, storage.UserChange{Role: &role, Sites: &sites})
		if err != nil || got.Role != role || got.Sites != sites {
			t.Fatalf("update: %+v %v", got, err)
		}
		bad := "root"
		if _, err := s.UpdateUser(ctx, u.ID, storage.UserChange{Role: &bad}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("invalid role: %v, want ErrInvalid", err)
		}
		yes := true
		if _, err := s.UpdateUser(ctx, u.ID, storage.UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountSessions(ctx, u.ID); n != 0 {
			t.Errorf("sessions after disabling: %d, want 0", n)
		}
		if _, err := s.UpdateUser(ctx, 99999, storage.UserChange{Disabled: &yes}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown user: %v, want not found", err)
		}
	})
}

// TestSQLiteFilesPrivate checks the database and its WAL and shared-memory
// files are readable by the owner only, whatever the umask.
func TestSQLiteFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "private.db")
	s := retOpen(t, storage.Config{SQLitePath: path, Logger: storagetest.Quiet})
	retSubmit(t, s, "00000000-0000-4000-8000-0000000000f1", time.Now(), nil)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s mode %o, want no group or other access", filepath.Base(p), m)
		}
	}
}
