package storage

import (
	"strings"
	"testing"
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
