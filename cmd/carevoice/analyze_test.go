package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs a command function with the given stdin and returns its stdout,
// stderr and error.
func runCmd(t *testing.T, fn func([]string) error, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	oldIn, oldOut, oldErr := cmdStdin, cmdStdout, cmdStderr
	cmdStdin, cmdStdout, cmdStderr = strings.NewReader(stdin), &out, &errb
	defer func() { cmdStdin, cmdStdout, cmdStderr = oldIn, oldOut, oldErr }()
	err := fn(args)
	return out.String(), errb.String(), err
}

func TestAnalyzeCSVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	out := filepath.Join(dir, "out.csv")
	data := "id,question,text\n" +
		"r1,What could we do better?,Nothing\n" +
		"r2,What was good?,\"Kind nurses, clean ward\"\n" +
		"r3,FFT Why?,\"Waited 4 hours, nobody told us anything, awful\"\n"
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCmd(t, cmdAnalyze, "", "--in", in, "--out", out, "--workers", "2"); err != nil {
		t.Fatalf("analyze: %v (stderr %q)", err, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != "id,sentiment,score,themes" {
		t.Fatalf("got %v", recs)
	}
	want := []struct{ id, sentiment, theme string }{
		{"r1", "positive", ""}, {"r2", "positive", "staff_attitude"}, {"r3", "negative", "wait_times"},
	}
	for i, w := range want {
		r := recs[i+1]
		if r[0] != w.id || r[1] != w.sentiment || !strings.Contains(r[3], w.theme) {
			t.Errorf("row %d: got %v, want id %s, %s, themes with %q", i+1, r, w.id, w.sentiment, w.theme)
		}
	}
}

func TestAnalyzeStdinJSONL(t *testing.T) {
	stdout, _, err := runCmd(t, cmdAnalyze, "text\nThe receptionist was rude\n", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var row struct {
		ID        string `json:"id"`
		Sentiment string `json:"sentiment"`
		Themes    []struct {
			ID, Evidence string
		} `json:"themes"`
	}
	if err := json.Unmarshal([]byte(stdout), &row); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if row.ID != "1" || row.Sentiment != "negative" || len(row.Themes) == 0 || row.Themes[0].Evidence == "" {
		t.Errorf("got %+v", row)
	}
}

func TestAnalyzeBadLines(t *testing.T) {
	in := "id,text\n1,fine\n2,bad \"quote\n3,Rude staff\n"
	stdout, stderr, err := runCmd(t, cmdAnalyze, in)
	if err == nil || !strings.Contains(err.Error(), "1 invalid input lines") {
		t.Errorf("got error %v, want a count of invalid lines", err)
	}
	if !strings.Contains(stderr, "line 3:") {
		t.Errorf("stderr %q does not name line 3", stderr)
	}
	if n := strings.Count(stdout, "\n"); n != 3 {
		t.Errorf("stdout has %d lines, want header and 2 rows:\n%s", n, stdout)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"MissingTextColumn", "id,comment\n1,hi\n", nil, `no "text" column`},
		{"BadFormat", "text\nhi\n", []string{"--format", "xml"}, "--format"},
		{"BadWorkers", "text\nhi\n", []string{"--workers", "0"}, "--workers"},
		{"MissingFile", "", []string{"--in", "/nonexistent/x.csv"}, "no such file"},
		{"Extra", "", []string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, cmdAnalyze, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestEval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "labelled.csv")
	data := "id,question,text,sentiment,themes\n" +
		"1,FFT Why?,Kind and caring staff,positive,staff_attitude\n" +
		"2,FFT Why?,Waited three hours,negative,wait_times\n" +
		"3,How could we improve?,Nothing,positive,\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCmd(t, cmdEval, "", "--data", path, "--timing", "10ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"macro F1", "staff_attitude", "comments/s", "positive"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("eval output lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, err = runCmd(t, cmdEval, "", "--data", path, "--json", "--timing", "0")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Comments         int     `json:"comments"`
		SentimentMacroF1 float64 `json:"sentiment_macro_f1"`
		Confusion        [3][3]int
		InTraining       *int `json:"in_training"`
		TrainingEstimate *struct {
			SentimentMacroF1 float64 `json:"sentiment_macro_f1"`
		} `json:"training_estimate"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Comments != 3 {
		t.Errorf("eval --json: %v, %+v", err, rep)
	}
	// Scripts get the honest figure and the in-sample count beside the scores.
	if rep.InTraining == nil || rep.TrainingEstimate == nil || rep.TrainingEstimate.SentimentMacroF1 <= 0 {
		t.Errorf("eval --json lacks in_training or training_estimate:\n%s", stdout)
	}
	if _, _, err := runCmd(t, cmdEval, ""); err == nil {
		t.Error("eval without --data: nil error")
	}
}
