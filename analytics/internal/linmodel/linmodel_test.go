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

// TestPackedMatchesRow checks the analyzer's packed table against Row: the
// same weights for every feature, nothing for an unknown one, and trailing
// outputs that no feature weighs left out.
func TestPackedMatchesRow(t *testing.T) {
	tests := []struct {
		name      string
		nOut      int
		weights   map[uint64][]float32
		wantWidth int
	}{
		{"all outputs", 5, map[uint64][]float32{1: {0.5, -1.25, 3, 0, 2}, 42: {3, 0, -0.5, 1, -2}, 1 << 40: {-0.001, 2, 0, 0, 0}}, 5},
		{"last two unused", 6, map[uint64][]float32{7: {1, -1, 0.25, 0.5, 0, 0}, 99: {0, 0, 0, -3, 0, 0}}, 4},
		{"one word of four", 3, map[uint64][]float32{5: {1, 2, 3}}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := New("fv", tc.nOut, nil, tc.weights).Encode(&buf); err != nil {
				t.Fatal(err)
			}
			m, err := Decode(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			p := m.Packed()
			if p == nil || p.Width() != tc.wantWidth {
				t.Fatalf("packed %v, want width %d", p, tc.wantWidth)
			}
			dst := make([]float32, tc.nOut+3)
			for h := range tc.weights {
				clear(dst)
				off := p.Find(h)
				if off < 0 {
					t.Fatalf("feature %d not found", h)
				}
				p.Weights(off, dst)
				want := m.Row(h)
				for o := range want {
					got := float32(0)
					if o < p.Width() {
						got = dst[o]
					}
					if got != want[o] {
						t.Errorf("feature %d output %d: Weights %v, Row %v", h, o, got, want[o])
					}
				}
			}
			if p.Find(12345) >= 0 {
				t.Error("unknown feature found")
			}
		})
	}
}
