package e2e

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/carevoice/carevoice/loadtest"
	"github.com/carevoice/carevoice/storage"
)

// TestKillDuringLoad is the power-cut test: SIGKILL in the middle of a load
// must not lose a single acknowledged submission, must leave a sound
// database, and the restarted server must take new submissions.
func TestKillDuringLoad(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	e := sqliteEnv(dir)
	dbcfg := storage.Config{SQLitePath: e["CAREVOICE_DB"]}
	srv := start(t, e)
	token := mintToken(t, dbcfg)

	d := drive(t, []string{srv.URL}, token, 32)
	d.waitAcks(t, 2000)
	srv.kill(syscall.SIGKILL)
	rep := d.stop(t)
	if len(rep.Acked) < 2000 {
		t.Fatalf("got %d acknowledgements, want at least 2000", len(rep.Acked))
	}

	st := openStore(t, dbcfg)
	ctx := context.Background()
	if res, err := st.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %q, %v", res, err)
	}
	requireStored(t, st, rep.Acked)

	srv = start(t, e)
	rep2, err := loadtest.Drive(ctx, loadtest.Config{URLs: []string{srv.URL}, Duration: time.Second, Concurrency: 8, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.Acked) == 0 || rep2.Errors != 0 {
		t.Fatalf("after restart: %d acknowledged, %d errors", len(rep2.Acked), rep2.Errors)
	}
	v, err := loadtest.VerifyAPI(ctx, loadtest.Config{URLs: []string{srv.URL}, Token: token, Concurrency: 8}, append(rep2.Acked, rep.Acked[:200]...))
	if err != nil || v.Lost != 0 {
		t.Fatalf("after restart, through the API: %+v, %v", v, err)
	}
	t.Logf("SIGKILL after %d acknowledgements: all stored; %d more after restart", len(rep.Acked), len(rep2.Acked))
}

// TestGracefulStopUnderLoad: SIGTERM while patients are submitting finishes
// the requests in flight, commits the writer's last batch and exits 0.
func TestGracefulStopUnderLoad(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	e := sqliteEnv(dir)
	dbcfg := storage.Config{SQLitePath: filepath.Join(dir, "carevoice.db")}
	srv := start(t, e)
	token := mintToken(t, dbcfg)

	d := drive(t, []string{srv.URL}, token, 32)
	d.waitAcks(t, 2000)
	srv.kill(syscall.SIGTERM) // fails the test unless the exit is clean
	rep := d.stop(t)

	st := openStore(t, dbcfg)
	if res, err := st.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Fatalf("integrity_check after SIGTERM: %q, %v", res, err)
	}
	requireStored(t, st, rep.Acked)
	t.Logf("SIGTERM after %d acknowledgements (%d requests failed as the server went away): all stored", len(rep.Acked), rep.Errors)
}
