package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestExportCommand runs `carevoice export` against a database file holding
// one response with contact details sealed under the data dir's key.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "carevoice.db")
	t.Setenv("CAREVOICE_SECRET_KEY", "")
	keys, err := secure.LoadOrCreateKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: db, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(ctx, "Europe/London"); err != nil {
		t.Fatal(err)
	}
	id := "6f1c1f0e-8f0a-4b6e-9c1d-2a3b4c5d6e7f"
	sealed, err := keys.Seal([]byte(`{"ok_to_contact":true,"name":"Ana López","phone":"020 7946 0958"}`), []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 9, 30, 0, 0, time.UTC)
	one, text := 1, "Lovely, but =SUM(A1) ring me on 020 7946 0958"
	if _, err := st.SubmitResponse(ctx, &storage.NewResponse{ID: id, Survey: "fft", SurveyVersion: 1, Site: "main", Channel: "link",
		Lang: "en", SubmittedAt: at, LocalDay: "2026-07-01", Fingerprint: "x", FFT: &one, Contact: sealed, WantsContact: true,
		Answers: []storage.NewAnswer{{Question: "q1", Type: "rating5", Num: &one}, {Question: "q2", Position: 1, Type: "text", Intent: "praise", Text: &text}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	read := func(path string) []map[string]string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]string
		for _, r := range rows[1:] {
			m := map[string]string{}
			for i, h := range rows[0] {
				m[h] = r[i]
			}
			out = append(out, m)
		}
		return out
	}

	t.Run("responses", func(t *testing.T) {
		out := filepath.Join(dir, "r.csv")
		if _, stderr, err := runCmd(t, cmdExport, "", "--db", db, "--out", out, "--bom", "--from", "2026-07-01", "--to", "2026-07-01"); err != nil {
			t.Fatalf("export: %v (%s)", err, stderr)
		}
		if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
		}
		rows := read(out)
		if len(rows) != 1 || rows[0]["submitted_at"] != "2026-07-01T10:30:00+01:00" || rows[0]["fft.q2"] != text || rows[0]["fft.q3"] != "" {
			t.Errorf("rows: %v", rows)
		}
		if _, ok := rows[0]["contact_name"]; ok {
			t.Error("contact columns without --include-contact")
		}
	})
	t.Run("comments redacted with contact refused", func(t *testing.T) {
		out := filepath.Join(dir, "c.csv")
		if _, stderr, err := runCmd(t, cmdExport, "", "--db", db, "--out", out, "--format", "comments", "--redact"); err != nil {
			t.Fatalf("export: %v (%s)", err, stderr)
		}
		if rows := read(out); len(rows) != 1 || strings.Contains(rows[0]["text"], "7946") || !strings.Contains(rows[0]["text"], "[phone]") {
			t.Errorf("rows: %v", rows)
		}
		if _, _, err := runCmd(t, cmdExport, "", "--db", db, "--format", "comments", "--include-contact"); err == nil {
			t.Error("--include-contact with comments: no error")
		}
	})
	t.Run("include contact", func(t *testing.T) {
		out := filepath.Join(dir, "k.csv")
		if _, stderr, err := runCmd(t, cmdExport, "", "--db", db, "--out", out, "--include-contact"); err != nil {
			t.Fatalf("export: %v (%s)", err, stderr)
		}
		if rows := read(out); rows[0]["contact_name"] != "Ana López" || rows[0]["contact_phone"] != "020 7946 0958" {
			t.Errorf("rows: %v", rows)
		}
	})
	t.Run("include contact without a key", func(t *testing.T) {
		other := t.TempDir()
		if _, _, err := runCmd(t, cmdExport, "", "--db", filepath.Join(other, "x.db"), "--include-contact"); err == nil ||
			!strings.Contains(err.Error(), "secret key") {
			t.Errorf("got %v, want a missing-key error", err)
		}
		if _, err := os.Stat(filepath.Join(other, secure.KeyFileName)); err == nil {
			t.Error("export created a key")
		}
	})
	t.Run("bad flags", func(t *testing.T) {
		for _, args := range [][]string{{"--format", "xml"}, {"--from", "July"}, {"--from", "2026-02-01", "--to", "2026-01-01"}, {"--site", "nowhere"}} {
			if _, _, err := runCmd(t, cmdExport, "", append([]string{"--db", db}, args...)...); err == nil {
				t.Errorf("%v: no error", args)
			}
		}
	})
	t.Run("audited", func(t *testing.T) {
		st, err := storage.Open(ctx, storage.Config{SQLitePath: db, Logger: storagetest.Quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		es, err := st.AuditSearch(ctx, storage.AuditQuery{Action: "export.csv", Limit: 10})
		if err != nil || len(es) != 3 {
			t.Fatalf("audit entries: %d, %v", len(es), err)
		}
		var d map[string]any
		json.Unmarshal([]byte(es[0].Detail), &d)
		if !strings.HasPrefix(es[0].Actor, "cli") || d["via"] != "cli" || d["include_contact"] != true || d["contacts"] != float64(1) || d["rows"] != float64(1) {
			t.Errorf("audit: %s %v", es[0].Actor, d)
		}
	})
}
