package wordvec

import (
	"bytes"
	"testing"

	"github.com/carevoice/carevoice/analytics/internal/textfeat"
)

func TestEncodeDecode(t *testing.T) {
	hashes := []uint64{textfeat.HashString("kind"), textfeat.HashString("rude")}
	scale := []float32{0.01, 0.02}
	vecs := make([]int8, 2*Dims)
	for i := range vecs {
		vecs[i] = int8(i%255 - 127)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, hashes, scale, vecs); err != nil {
		t.Fatal(err)
	}
	tab, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hashes {
		v, sc := tab.Lookup(h)
		if tab.Index(h) != i || sc != scale[i] || !bytes.Equal(int8Bytes(v), int8Bytes(vecs[i*Dims:(i+1)*Dims])) {
			t.Errorf("word %d: index %d scale %v", i, tab.Index(h), sc)
		}
	}
	if v, _ := tab.Lookup(textfeat.HashString("absent")); v != nil || tab.Index(textfeat.HashString("absent")) != -1 {
		t.Error("absent word found")
	}
	if _, err := Decode(buf.Bytes()[:buf.Len()-3]); err == nil {
		t.Error("truncated file decoded")
	}
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestEmbedded checks the committed table: it decodes, and the words of
// patient comments, hashed by the tokenizer, find their vectors.
func TestEmbedded(t *testing.T) {
	tab, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() < 20000 {
		t.Fatalf("%d words", tab.Len())
	}
	x := textfeat.NewExtractor()
	for _, tc := range []struct {
		word string
		want bool
	}{
		{"rude", true}, {"Nurse", true}, {"waiting", true}, {"receptionist", true}, {"xqzvbw", false},
	} {
		toks, _ := x.Tokenize(tc.word, nil, nil)
		if got := tab.Index(toks[0].Hash) >= 0; got != tc.want {
			t.Errorf("%q: found %v, want %v", tc.word, got, tc.want)
		}
	}
}
