package demo

import (
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestFill makes a small demo year and checks that it looks like a clinic's:
// three sites, both languages, every channel, analysed comments, sealed
// contacts, and north's waits worse in winter than in summer.
func TestFill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: path, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Seed(ctx, "UTC"); err != nil {
		t.Fatal(err)
	}
	an, err := analytics.New()
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := secure.NewKeyring(secure.GenerateKey())
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	const n = 3000
	if err := Fill(ctx, st, an, keys, Options{Responses: n, Months: 12, Now: now}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.CountResponses(ctx); got != n {
		t.Fatalf("got %d responses, want %d", got, n)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	share := func(q string) float64 {
		t.Helper()
		var f float64
		if err := db.QueryRow(q).Scan(&f); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return f
	}
	for _, site := range []string{"north", "central", "south"} {
		if f := share("SELECT AVG(site = '" + site + "') FROM responses"); f < 0.2 {
			t.Errorf("site %s has %.0f%% of responses", site, 100*f)
		}
	}
	for _, ch := range []string{"link", "kiosk", "invite", "suggestion"} {
		if f := share("SELECT AVG(channel = '" + ch + "') FROM responses"); f < 0.03 {
			t.Errorf("channel %s has %.1f%% of responses", ch, 100*f)
		}
	}
	if f := share("SELECT AVG(lang = 'es') FROM responses"); f < 0.1 || f > 0.3 {
		t.Errorf("Spanish share %.0f%%, want about 20%%", 100*f)
	}
	if f := share("SELECT AVG(submitted_at BETWEEN " + ms(now.AddDate(-1, 0, 0)) + " AND " + ms(now) + ") FROM responses"); f != 1 {
		t.Errorf("%.1f%% of responses fall outside the demo year", 100*(1-f))
	}
	if f := share("SELECT AVG(sentiment IS NOT NULL AND analyzer_version IS NOT NULL) FROM answers WHERE qtype = 'text'"); f != 1 {
		t.Errorf("%.1f%% of comments lack an analysis", 100*(1-f))
	}
	if f := share("SELECT COUNT(*) FROM contacts"); f < 10 {
		t.Errorf("only %.0f contact requests", f)
	}
	if f := share("SELECT COUNT(*) FROM contacts WHERE CAST(sealed AS TEXT) LIKE '%555-01%'"); f != 0 {
		t.Errorf("%.0f contacts are stored in the clear", f)
	}
	// Negative FFT share at north: December–January against June–August.
	neg := func(months string) float64 {
		return share(`SELECT AVG(fft IN (4, 5)) FROM responses WHERE site = 'north' AND fft IS NOT NULL
			AND substr(local_day, 6, 2) IN (` + months + `)`)
	}
	winter, summer := neg("'12','01'"), neg("'06','07','08'")
	if winter < summer+0.1 {
		t.Errorf("north's winter is not worse: %.0f%% negative in winter, %.0f%% in summer", 100*winter, 100*summer)
	}
	wait := func(site string) float64 {
		return share(`SELECT AVG(t.theme IS NOT NULL) FROM responses r JOIN answers a ON a.response_seq = r.seq AND a.qtype = 'text'
			LEFT JOIN comment_themes t ON t.response_seq = r.seq AND t.question = a.question AND t.theme = 'wait_times' AND t.polarity = 'negative'
			WHERE r.site = '` + site + `' AND substr(r.local_day, 6, 2) IN ('12','01')`)
	}
	if wait("north") < wait("south")+0.05 {
		t.Errorf("winter wait-time complaints: north %.0f%%, south %.0f%%; want north clearly higher", 100*wait("north"), 100*wait("south"))
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
