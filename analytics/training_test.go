package analytics

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestTrainingRecord holds the shipped training.json to the shipped model.bin:
// a retrain that forgot to write the record (or a hand-copied model) would
// silently lose eval's in-sample warning.
func TestTrainingRecord(t *testing.T) {
	tr, err := DecodeTraining(embeddedTraining, embeddedModel)
	if err != nil {
		t.Fatalf("shipped training.json: %v", err)
	}
	if mustNew(t).Training() == nil {
		t.Fatal("New: no training record")
	}
	if tr.Comments == 0 || len(tr.seen) == 0 || len(tr.seen) > tr.Comments {
		t.Fatalf("record: %d comments, %d fingerprints", tr.Comments, len(tr.seen))
	}
	e := tr.Estimate()
	if e == nil || tr.Folds < 2 || e.Comments != tr.Comments {
		t.Fatalf("record has no nested cross-validation over its comments: %+v (folds %d)", e, tr.Folds)
	}
	for name, v := range map[string]float64{"sentiment": e.SentimentMacroF1, "theme": e.ThemeMacroF1, "accuracy": e.Accuracy} {
		if !(v > 0 && v < 1) {
			t.Errorf("nested %s figure %v outside (0, 1)", name, v)
		}
	}

	// The record describes the dev file the model is trained on: the same
	// bytes, and every one of its comments recognised.
	path := devPath(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if Digest(raw) != tr.DataSHA256 {
		// Not a failure of this repository: shared/ is laid beside it and may
		// be replaced; the model then wants retraining.
		t.Skipf("%s is not the file the model was trained on (digest differs from training.json): retrain to check it", path)
	}
	rows, err := ReadLabelled(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != tr.Comments {
		t.Errorf("dev file has %d comments, record %d", len(rows), tr.Comments)
	}
	for _, r := range rows {
		if !tr.Seen(r.Text, r.Intent) {
			t.Fatalf("dev comment %s not recognised as training data", r.ID)
		}
	}
}

func TestFingerprint(t *testing.T) {
	base := Fingerprint("The nurse was kind.", IntentPraise)
	for _, tc := range []struct {
		text   string
		intent Intent
		same   bool
	}{
		{"The nurse was kind.", IntentPraise, true},
		{"  the NURSE  was\tkind.\r\n", IntentPraise, true}, // a spreadsheet's re-save
		{"The nurse was kind.", IntentImprove, false},       // the model reads the intent too
		{"The nurse was kind!", IntentPraise, false},
		{"The nurse waskind.", IntentPraise, false},
		{"", IntentPraise, false},
	} {
		if got := Fingerprint(tc.text, tc.intent) == base; got != tc.same {
			t.Errorf("Fingerprint(%q, %s) same as base: %v, want %v", tc.text, tc.intent, got, tc.same)
		}
	}
	if Fingerprint("", IntentOpen) != Fingerprint(" \n", IntentOpen) {
		t.Error("blank texts differ")
	}
}

func TestDecodeTrainingRejects(t *testing.T) {
	model := []byte("model bytes")
	good := NewTraining([]Labelled{{Text: "a", Intent: IntentOpen}, {Text: "b", Intent: IntentOpen}})
	good.ModelSHA256 = Digest(model)
	enc := func(tr Training) []byte {
		b, err := tr.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if tr, err := DecodeTraining(enc(*good), model); err != nil || !tr.Seen("A", IntentOpen) || tr.Seen("c", IntentOpen) {
		t.Fatalf("round trip: %v", err)
	}
	unsorted := *good
	unsorted.Fingerprints = append(append([]byte(nil), good.Fingerprints[8:]...), good.Fingerprints[:8]...)
	if binary.LittleEndian.Uint64(unsorted.Fingerprints) < binary.LittleEndian.Uint64(unsorted.Fingerprints[8:]) {
		t.Fatal("test data: swap did not unsort")
	}
	ragged := *good
	ragged.Fingerprints = good.Fingerprints[:7]
	for name, data := range map[string][]byte{
		"other model":   enc(Training{ModelSHA256: Digest([]byte("other"))}),
		"unsorted":      enc(unsorted),
		"ragged":        enc(ragged),
		"unknown field": []byte(`{"model_sha256":"` + good.ModelSHA256 + `","extra":1}`),
		"not JSON":      []byte("model"),
	} {
		if _, err := DecodeTraining(data, model); err == nil {
			t.Errorf("%s: nil error", name)
		}
	}
}

// TestEvaluateInTraining: rows the model was fitted on are counted and the
// others scored on their own, with the same figures as a file of only them.
func TestEvaluateInTraining(t *testing.T) {
	rows := readFixture(t)
	if len(rows) < 10 {
		t.Fatalf("fixture has %d rows", len(rows))
	}
	plain := mustNew(t)
	plain.embedded = false // no training record: the figures of a plain file
	seen := rows[:4]
	nested := Evaluate(plain, rows, 0)
	tr := NewTraining(seen)
	tr.Folds, tr.Data, tr.Nested = 5, "mine.csv", &nested

	a := mustNew(t)
	a.training = tr
	for _, tc := range []struct {
		name       string
		rows       []Labelled
		inTraining int
		unseen     []Labelled // nil: no separate section
		notes      []string
	}{
		{"mixed", rows, 4, rows[4:], []string{"NOTE: 4 of these " + strconv.Itoa(len(rows)), "only the " + strconv.Itoa(len(rows)-4) + " comments", "mine.csv"}},
		{"all seen", seen, 4, nil, []string{"NOTE: 4 of these 4 comments (100%)", "Estimate for comments the model never saw"}},
		{"none seen", rows[4:], 0, nil, []string{"Estimate for comments the model never saw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Evaluate(a, tc.rows, 0)
			if rep.InTraining != tc.inTraining {
				t.Errorf("in training %d, want %d", rep.InTraining, tc.inTraining)
			}
			if rep.TrainingEstimate == nil || rep.TrainingEstimate.SentimentMacroF1 != nested.SentimentMacroF1 || rep.TrainingEstimate.Data != "mine.csv" {
				t.Errorf("estimate %+v, want the record's", rep.TrainingEstimate)
			}
			if want := Evaluate(plain, tc.rows, 0); rep.Confusion != want.Confusion || rep.ThemeMacroF1 != want.ThemeMacroF1 {
				t.Errorf("whole-file figures changed by the record")
			}
			switch {
			case tc.unseen == nil && rep.Unseen != nil:
				t.Errorf("unseen section of %d comments, want none", rep.Unseen.Comments)
			case tc.unseen != nil:
				want := Evaluate(plain, tc.unseen, 0)
				if rep.Unseen == nil || rep.Unseen.Comments != want.Comments || rep.Unseen.Confusion != want.Confusion ||
					!reflect.DeepEqual(rep.Unseen.Themes, want.Themes) {
					t.Errorf("unseen section %+v, want %+v", rep.Unseen, want)
				}
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, n := range tc.notes {
				if !strings.Contains(out, n) {
					t.Errorf("report lacks %q:\n%s", n, out)
				}
			}
			if tc.inTraining == 0 && strings.Contains(out, "NOTE:") {
				t.Errorf("in-sample note on a file the model never saw:\n%s", out)
			}
			// The note comes before the first figure a reader might quote.
			if tc.inTraining > 0 && strings.Index(out, "NOTE:") > strings.Index(out, "macro F1 ") {
				t.Errorf("note after the first macro F1:\n%s", out)
			}
		})
	}
}
