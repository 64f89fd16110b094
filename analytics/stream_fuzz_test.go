package analytics

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strconv"
	"testing"
)

// FuzzAnalyzeStream: whatever bytes a clinic feeds `carevoice analyze`, it
// never panics, and what it writes is whole: a header and one complete
// id,sentiment,score,themes row per comment it reports, each score in [−1, 1].
//
//	go test ./analytics -run '^$' -fuzz FuzzAnalyzeStream -fuzztime 30s
func FuzzAnalyzeStream(f *testing.F) {
	for _, seed := range []string{
		"id,text\n1,The nurse was lovely\n2,\"Waited, two hours\"\n",
		"text,intent\nNothing,improve\n\"unterminated,praise\n",
		"id,question,text\nx,What could we do better?,\"=cmd|' /C calc'!A0\"\n",
		"name\nno text column\n",
		"",
		"text\n\xff\xfe\n",
		"id,text\n1,a\n2,b,c,d\n3,\"\"\"quoted\"\"\"\n",
	} {
		f.Add([]byte(seed))
	}
	a, err := New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		st, err := a.AnalyzeStream(context.Background(), bytes.NewReader(in), &out, StreamOptions{Workers: 2})
		if err != nil {
			if out.Len() > 0 && !errors.Is(err, ErrNoTextColumn) {
				// An error after output began must still leave whole rows.
				t.Logf("error after output: %v", err)
			}
			if errors.Is(err, ErrNoTextColumn) {
				return
			}
		}
		if out.Len() == 0 {
			return
		}
		rows, rerr := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if rerr != nil {
			t.Fatalf("output is not valid CSV: %v\n%q", rerr, out.String())
		}
		if len(rows) == 0 || len(rows[0]) != 4 {
			t.Fatalf("bad header: %q", rows)
		}
		if err == nil && len(rows)-1 != st.Written {
			t.Fatalf("wrote %d rows, reported %d", len(rows)-1, st.Written)
		}
		for _, r := range rows[1:] {
			score, perr := strconv.ParseFloat(r[2], 64)
			if perr != nil || score < -1 || score > 1 {
				t.Fatalf("row %q: score %q not in [-1, 1]", r, r[2])
			}
		}
	})
}
