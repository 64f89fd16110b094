package linmodel

import (
	"bytes"
	"math"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	w := map[uint64][]float32{1: {0.5, -1.25}, 42: {3, 0}, 1 << 40: {-0.001, 2}}
	m := New("fv", 2, []float32{0.1, -2}, w)
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.FeatureVersion != "fv" || got.NOut != 2 || got.Len() != 3 || got.Params[1] != -2 {
		t.Fatalf("got version %q, %d outputs, %d features, params %v", got.FeatureVersion, got.NOut, got.Len(), got.Params)
	}
	for h, row := range w {
		r := got.Row(h)
		for o := range row {
			if math.Abs(float64(r[o]-row[o])) > 3.0/32767 {
				t.Errorf("feature %d output %d: got %v, want %v (int16 quantisation)", h, o, r[o], row[o])
			}
		}
	}
	if got.Row(7) != nil {
		t.Error("unknown feature has a row")
	}
	if _, err := Decode(buf.Bytes()[:buf.Len()/2]); err == nil {
		t.Error("truncated model decoded without error")
	}
}
