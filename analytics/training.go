package analytics

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
)

// training.json is written by the trainer beside model.bin. It lets `eval`
// say when it is scoring comments the model was fitted on: on its own
// training file the analyzer scores far above what it does on new comments
// (0.94 against about 0.72 sentiment macro-F1), and a quality team reading
// the in-sample figure would trust it more than it deserves.
//
//go:embed training.json
var embeddedTraining []byte

// Training describes what the embedded model was fitted on.
type Training struct {
	// ModelSHA256 ties the record to one model.bin; a record for another
	// model is ignored.
	ModelSHA256 string `json:"model_sha256"`
	Data        string `json:"data"` // base name of the training file
	DataSHA256  string `json:"data_sha256"`
	Comments    int    `json:"comments"`
	Folds       int    `json:"folds"`
	// Nested is the trainer's nested cross-validation: every fold scored by a
	// model, offsets and thresholds that never saw it. It is the estimate for
	// comments from the same source that the model never saw.
	Nested *Report `json:"nested_cv,omitempty"`
	// Fingerprints are the sorted, distinct Fingerprint values of the
	// training rows, 8 bytes each, little-endian (base64 in the JSON). Only
	// hashes: the record holds no comment text.
	Fingerprints []byte `json:"fingerprints"`

	seen []uint64
}

// Estimate is the part of a Training record that Evaluate reports.
type Estimate struct {
	Method           string  `json:"method"`
	Data             string  `json:"data"`
	Comments         int     `json:"comments"`
	SentimentMacroF1 float64 `json:"sentiment_macro_f1"`
	ThemeMacroF1     float64 `json:"theme_macro_f1"`
	Accuracy         float64 `json:"accuracy"`
}

// Fingerprint identifies a labelled comment by its intent and its text with
// case and runs of white space folded, so a copy re-saved by a spreadsheet
// still counts as the same comment.
func Fingerprint(text string, in Intent) uint64 {
	h := fnv.New64a()
	h.Write([]byte(in))
	h.Write([]byte{0})
	for i, f := range strings.Fields(text) {
		if i > 0 {
			h.Write([]byte{' '})
		}
		h.Write([]byte(strings.ToLower(f)))
	}
	return h.Sum64()
}

// NewTraining builds the record of a model fitted on rows. The trainer fills
// in the model's digest, the data's and the cross-validation.
func NewTraining(rows []Labelled) *Training {
	fps := make([]uint64, 0, len(rows))
	for _, r := range rows {
		fps = append(fps, Fingerprint(r.Text, r.Intent))
	}
	slices.Sort(fps)
	fps = slices.Compact(fps)
	b := make([]byte, 8*len(fps))
	for i, fp := range fps {
		binary.LittleEndian.PutUint64(b[8*i:], fp)
	}
	return &Training{Comments: len(rows), Fingerprints: b, seen: fps}
}

// Seen reports whether the model was fitted on this comment.
func (t *Training) Seen(text string, in Intent) bool {
	if t == nil {
		return false
	}
	_, ok := slices.BinarySearch(t.seen, Fingerprint(text, in))
	return ok
}

// Estimate returns the nested cross-validation figures, or nil when the
// trainer ran none.
func (t *Training) Estimate() *Estimate {
	if t == nil || t.Nested == nil {
		return nil
	}
	return &Estimate{
		Method:           fmt.Sprintf("nested %d-fold cross-validation", t.Folds),
		Data:             t.Data,
		Comments:         t.Nested.Comments,
		SentimentMacroF1: t.Nested.SentimentMacroF1,
		ThemeMacroF1:     t.Nested.ThemeMacroF1,
		Accuracy:         t.Nested.Accuracy,
	}
}

// Digest is the hex SHA-256 of a file, as ModelSHA256 and DataSHA256 hold it.
func Digest(file []byte) string {
	sum := sha256.Sum256(file)
	return hex.EncodeToString(sum[:])
}

// Encode writes the record as indented JSON.
func (t *Training) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("training record: %w", err)
	}
	return append(b, '\n'), nil
}

// DecodeTraining reads a record and checks that it belongs to model.
func DecodeTraining(data, model []byte) (*Training, error) {
	var t Training
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("training record: %w", err)
	}
	if t.ModelSHA256 != Digest(model) {
		return nil, errors.New("training record: written for another model.bin; retrain (go run ./analytics/internal/train)")
	}
	if len(t.Fingerprints)%8 != 0 {
		return nil, fmt.Errorf("training record: fingerprints are %d bytes, not a multiple of 8", len(t.Fingerprints))
	}
	t.seen = make([]uint64, len(t.Fingerprints)/8)
	for i := range t.seen {
		t.seen[i] = binary.LittleEndian.Uint64(t.Fingerprints[8*i:])
	}
	if !slices.IsSorted(t.seen) {
		return nil, errors.New("training record: fingerprints are not sorted")
	}
	return &t, nil
}

// embeddedRecord is the shipped training.json, read once. A record that does
// not match the model only costs eval its warning; TestTrainingRecord keeps
// the shipped pair together.
var embeddedRecord = sync.OnceValue(func() *Training {
	tr, err := DecodeTraining(embeddedTraining, embeddedModel)
	if err != nil {
		return nil
	}
	return tr
})

// Training returns the record of what the analyzer's model was fitted on, or
// nil when there is none for this model (NewWithModel, a hand-swapped
// model.bin).
func (a *Analyzer) Training() *Training {
	switch {
	case a.training != nil:
		return a.training
	case a.embedded:
		return embeddedRecord()
	}
	return nil
}
