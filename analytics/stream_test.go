package analytics

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAnalyzeStreamCSV(t *testing.T) {
	a := mustNew(t)
	in := "id,question,text\n" +
		"a1,How could we improve?,Nothing\n" +
		"a2,What was good?,Nothing\n" +
		"a3,FFT Why?,\"The nurse was lovely, but the wait was awful\"\n" +
		"=cmd,FFT Why?,Rude receptionist\n"
	var out, errs bytes.Buffer
	st, err := a.AnalyzeStream(context.Background(), strings.NewReader(in), &out, StreamOptions{Workers: 3, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 4 || st.BadLines != 0 {
		t.Errorf("stats %+v, want 4 written, 0 bad", st)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "id,sentiment,score,themes" {
		t.Errorf("header %q", got)
	}
	want := [][2]string{{"a1", Positive}, {"a2", Negative}, {"a3", Mixed}, {"'=cmd", ""}}
	for i, w := range want {
		r := recs[i+1]
		if r[0] != w[0] || (w[1] != "" && r[1] != w[1]) {
			t.Errorf("row %d: got %v, want id %s sentiment %s", i+1, r, w[0], w[1])
		}
	}
	if !strings.Contains(recs[3][3], "wait_times") {
		t.Errorf("row 3 themes %q, want wait_times", recs[3][3])
	}
}

func TestAnalyzeStreamIntentColumn(t *testing.T) {
	a := mustNew(t)
	in := "text,intent\nNothing,praise\nNothing,improve\n"
	var out bytes.Buffer
	if _, err := a.AnalyzeStream(context.Background(), strings.NewReader(in), &out, StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&out).ReadAll()
	if len(recs) != 3 || recs[1][0] != "1" || recs[1][1] != Negative || recs[2][1] != Positive {
		t.Errorf("got %v; want row numbers as ids, praise→negative, improve→positive", recs)
	}
}

func TestAnalyzeStreamOrderManyWorkers(t *testing.T) {
	a := mustNew(t)
	var in strings.Builder
	in.WriteString("id,text\n")
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "%d,Comment %d: the staff were kind but the wait was long\n", i, i)
	}
	var out bytes.Buffer
	st, err := a.AnalyzeStream(context.Background(), strings.NewReader(in.String()), &out, StreamOptions{Workers: 7, Format: "jsonl"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != n {
		t.Fatalf("written %d, want %d", st.Written, n)
	}
	sc := bufio.NewScanner(&out)
	i := 0
	for sc.Scan() {
		var row struct {
			ID string `json:"id"`
			Result
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		if row.ID != fmt.Sprint(i) {
			t.Fatalf("line %d has id %s: output out of order", i, row.ID)
		}
		if row.Version != Version || row.Themes == nil {
			t.Fatalf("line %d: %+v", i, row)
		}
		for _, h := range row.Themes {
			if h.Evidence == "" {
				t.Fatalf("line %d: theme %s without evidence", i, h.ID)
			}
		}
		i++
	}
	if i != n {
		t.Errorf("%d lines, want %d", i, n)
	}
}

func TestAnalyzeStreamBadLines(t *testing.T) {
	a := mustNew(t)
	in := "id,text\n" +
		"1,Lovely staff\n" +
		"2,He said \"hi\" and left\n" + // bare quote: line 3
		"3,Rude receptionist\n" +
		"4,\"unterminated \"quote\" here\n" + // line 5
		"5,Quick and kind\n"
	var out, errs bytes.Buffer
	st, err := a.AnalyzeStream(context.Background(), strings.NewReader(in), &out, StreamOptions{Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if st.BadLines != 2 || st.Written != 3 {
		t.Errorf("stats %+v, want 2 bad lines and 3 written", st)
	}
	for _, want := range []string{"line 3:", "line 5:"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("errors %q do not mention %q", errs.String(), want)
		}
	}
	recs, _ := csv.NewReader(&out).ReadAll()
	var ids []string
	for _, r := range recs[1:] {
		ids = append(ids, r[0])
	}
	if got := strings.Join(ids, ","); got != "1,3,5" {
		t.Errorf("ids %s, want 1,3,5", got)
	}
}

func TestAnalyzeStreamErrors(t *testing.T) {
	a := mustNew(t)
	tests := []struct {
		name, in, format, want string
	}{
		{"NoTextColumn", "id,comment\n1,hello\n", "", `no "text" column`},
		{"Empty", "", "", "empty input"},
		{"BadFormat", "text\nhi\n", "xml", "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := a.AnalyzeStream(context.Background(), strings.NewReader(tt.in), &out, StreamOptions{Format: tt.format})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
	_, err := a.AnalyzeStream(context.Background(), strings.NewReader("id,comment\n"), &bytes.Buffer{}, StreamOptions{})
	if !errors.Is(err, ErrNoTextColumn) {
		t.Errorf("got %v, want ErrNoTextColumn", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 1000 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestAnalyzeStreamWriteError(t *testing.T) {
	a := mustNew(t)
	var in strings.Builder
	in.WriteString("text\n")
	for i := 0; i < 20000; i++ {
		in.WriteString("The staff were lovely\n")
	}
	_, err := a.AnalyzeStream(context.Background(), strings.NewReader(in.String()), &failWriter{}, StreamOptions{Workers: 2})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("got %v, want the write error", err)
	}
}

func TestEvaluate(t *testing.T) {
	a := mustNew(t)
	in := "id,question,text,sentiment,themes\n" +
		"1,FFT Why?,The staff were kind and caring,positive,staff_attitude\n" +
		"2,FFT Why?,The receptionist was rude,negative,staff_attitude\n" +
		"3,How could we improve?,Nothing,positive,\n"
	rows, err := ReadLabelled(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rep := Evaluate(a, rows, 0)
	if rep.Comments != 3 {
		t.Errorf("comments %d", rep.Comments)
	}
	total := 0
	for _, r := range rep.Confusion {
		for _, c := range r {
			total += c
		}
	}
	if total != 3 {
		t.Errorf("confusion sums to %d, want 3", total)
	}
	both := Combine([]Report{rep, rep})
	if both.Comments != 6 || both.SentimentMacroF1 != rep.SentimentMacroF1 {
		t.Errorf("Combine: %d comments, macro %.3f; want 6 and %.3f", both.Comments, both.SentimentMacroF1, rep.SentimentMacroF1)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "macro F1") {
		t.Errorf("WriteText: %v\n%s", err, buf.String())
	}
	if _, err := ReadLabelled(strings.NewReader("id,text\n1,x\n")); err == nil {
		t.Error("ReadLabelled without sentiment column: nil error")
	}
	if _, err := ReadLabelled(strings.NewReader("text,sentiment\nx,great\n")); err == nil {
		t.Error("ReadLabelled with unknown label: nil error")
	}
}
