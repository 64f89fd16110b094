package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/loadtest"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// TestBackupUnderLoadRestores takes `carevoice backup` while patients keep
// submitting, restores it as README says (the file, and the key file beside
// it) and finds every response acknowledged before the backup began.
func TestBackupUnderLoadRestores(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	e := sqliteEnv(dir)
	srv := start(t, e)
	token := mintToken(t, storage.Config{SQLitePath: e["CAREVOICE_DB"]})

	d := drive(t, []string{srv.URL}, token, 16)
	d.waitAcks(t, 1500)
	before := d.acks.snapshot()
	out := filepath.Join(t.TempDir(), "backup.db")
	cmd := exec.Command(binary(t), "backup", "--out", out)
	cmd.Env = []string{"CAREVOICE_DB=" + e["CAREVOICE_DB"], "PATH=" + os.Getenv("PATH")}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("carevoice backup: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "quick_check ok") {
		t.Errorf("backup output %q does not report the check", log.String())
	}
	d.waitAcks(t, len(before)+500) // the load went on during and after the backup
	d.stop(t)

	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("backup mode %o, want 600", m)
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
	// A second backup to the same name is refused, not overwritten.
	cmd = exec.Command(binary(t), "backup", "--out", out)
	cmd.Env = []string{"CAREVOICE_DB=" + e["CAREVOICE_DB"], "PATH=" + os.Getenv("PATH")}
	if b, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("backup over an existing file succeeded: %s", b)
	}

	// Restore: the backup becomes the database of a new data folder, with
	// the key file that encrypts contact details.
	restored := t.TempDir()
	copyFile(t, out, filepath.Join(restored, "carevoice.db"))
	copyFile(t, filepath.Join(dir, secure.KeyFileName), filepath.Join(restored, secure.KeyFileName))
	srv2 := start(t, sqliteEnv(restored))
	v, err := loadtest.VerifyAPI(context.Background(), loadtest.Config{URLs: []string{srv2.URL}, Token: token, Concurrency: 8}, before)
	if err != nil {
		t.Fatal(err)
	}
	if v.Lost != 0 || v.Stored != int64(len(before)) {
		t.Fatalf("restored backup: %d of %d acknowledged before the backup found, lost %d (first %v)", v.Stored, len(before), v.Lost, v.Missing)
	}
	t.Logf("backup under load: all %d responses acknowledged before it began are in the restored copy", len(before))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
