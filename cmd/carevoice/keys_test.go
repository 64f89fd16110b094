package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// storeContact stores a response with sealed contact details under kr.
func storeContact(t *testing.T, st *storage.Store, kr *secure.Keyring, id string, at time.Time) {
	t.Helper()
	sealed, err := kr.Seal([]byte(`{"name":"Ann","phone":"0123"}`), []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	fft, text := 2, "kind staff"
	r := &storage.NewResponse{ID: id, Survey: "fft", SurveyVersion: 1, Site: "main", Channel: "link", Lang: "en",
		SubmittedAt: at, LocalDay: at.UTC().Format(time.DateOnly), Fingerprint: id, FFT: &fft, Contact: sealed, WantsContact: true,
		Answers: []storage.NewAnswer{{Question: "q1", Type: "rating5", Num: &fft},
			{Question: "q2", Position: 1, Type: "text", Intent: "praise", Text: &text, Analysis: &analytics.Result{Sentiment: "positive", Version: "t"}}}}
	if _, err := st.SubmitResponse(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func openTestStore(t *testing.T, c *config) *storage.Store {
	t.Helper()
	st, err := openStore(context.Background(), c, storagetest.Quiet)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestKeysRotate: a rotation makes a new key file, keeps the old key apart,
// re-encrypts every contact so the new key alone opens it, and --retire
// removes the old key.
func TestKeysRotate(t *testing.T) {
	c := testConfig(t)
	ctx := context.Background()
	first, err := secure.LoadOrCreateKey(c.dataDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, c)
	ids := []string{"00000000-0000-4000-8000-00000000c001", "00000000-0000-4000-8000-00000000c002"}
	for _, id := range ids {
		storeContact(t, st, first, id, time.Now())
	}
	st.Close()

	out, _, err := runCmd(t, cmdKeys, "", "rotate", "--db", c.DB)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if !strings.Contains(out, "re-encrypted 2 of 2") {
		t.Errorf("rotate said %q", out)
	}
	second, err := secure.LoadOrCreateKey(c.dataDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if second.KeyID() == first.KeyID() {
		t.Fatal("the key did not change")
	}
	newOnly, _ := secure.NewKeyring(mustKeyFile(t, filepath.Join(c.dataDir(), secure.KeyFileName)))
	st = openTestStore(t, c)
	for _, id := range ids {
		sealed, err := st.SealedContactOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := newOnly.Open(sealed, []byte(id)); err != nil {
			t.Errorf("%s does not open with the new key alone: %v", id, err)
		}
	}
	es, _ := st.AuditLog(ctx, 0, 5)
	if len(es) == 0 || es[0].Action != "keys.rotate" {
		t.Errorf("rotation not audited: %+v", es)
	}
	st.Close()

	status, _, err := runCmd(t, cmdKeys, "", "status", "--db", c.DB)
	if err != nil || !strings.Contains(status, "2 contact details sealed with "+second.KeyID()) {
		t.Errorf("status: %q %v", status, err)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), secure.OldKeyFileName)); err != nil {
		t.Errorf("old key file: %v, want kept without --retire", err)
	}
	if _, _, err := runCmd(t, cmdKeys, "", "rotate", "--retire", "--db", c.DB); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), secure.OldKeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old key file after --retire: %v, want gone", err)
	}
	for _, f := range []string{secure.KeyFileName} {
		if fi, err := os.Stat(filepath.Join(c.dataDir(), f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 600", f, fi.Mode(), err)
		}
	}
}

func mustKeyFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := secure.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRetentionCommand(t *testing.T) {
	c := testConfig(t)
	kr, _ := secure.LoadOrCreateKey(c.dataDir(), "")
	st := openTestStore(t, c)
	storeContact(t, st, kr, "00000000-0000-4000-8000-00000000d001", time.Now().AddDate(0, 0, -100))
	storeContact(t, st, kr, "00000000-0000-4000-8000-00000000d002", time.Now().AddDate(0, 0, -10))
	st.Close()
	t.Setenv("CAREVOICE_RETAIN_COMMENTS_MONTHS", "2")
	out, _, err := runCmd(t, cmdRetention, "", "--db", c.DB)
	if err != nil || !strings.Contains(out, "deleted 1 contact details and 1 comment texts") {
		t.Fatalf("retention: %q %v", out, err)
	}
	t.Setenv("CAREVOICE_RETAIN_CONTACT_DAYS", "-1")
	if _, _, err := runCmd(t, cmdRetention, "", "--db", c.DB); err == nil {
		t.Error("a negative retention was accepted")
	}
	t.Setenv("CAREVOICE_RETAIN_CONTACT_DAYS", "0")
	rc, err := retentionFromEnv()
	if err != nil || !rc.policy(time.Now()).ContactsBefore.IsZero() {
		t.Errorf("0 days: %+v %v, want contacts kept", rc, err)
	}
}
