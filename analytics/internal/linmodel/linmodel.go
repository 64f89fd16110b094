// Package linmodel holds the analyzer's linear model: one weight row per known
// feature hash, with sentiment logits and theme logits side by side so that a
// feature costs one table probe and one cache line.
//
// The file format is gzip over little-endian binary:
//
//	magic "CVLM" | version string | nOut u16 | nParams u16 | params f32... |
//	nFeat u32 | scale f32 per output | (hash u64, int16 per output)...
//
// Weights are stored as int16 with a per-output scale: the model is embedded in
// the binary, and 16 bits lose nothing that shows in the labels.
package linmodel

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// Model is immutable once built; safe for concurrent reads.
type Model struct {
	FeatureVersion string
	NOut           int
	// Params are decision settings tuned with the weights (thresholds, offsets);
	// their meaning belongs to the analyzer.
	Params []float32
	slots  []slot // open addressing, key 0 = empty
	rows   []float32
	mask   uint64
	packed *Packed // set by Decode
}

// slot keeps a key beside its row index so that a probe touches one cache
// line before the row itself.
type slot struct {
	key uint64
	idx int32
}

// New builds a model from a weight map (hash → NOut weights).
func New(featureVersion string, nOut int, params []float32, weights map[uint64][]float32) *Model {
	m := &Model{FeatureVersion: featureVersion, NOut: nOut, Params: append([]float32(nil), params...)}
	size := 16
	for size < 2*len(weights) {
		size *= 2
	}
	m.slots = make([]slot, size)
	m.mask = uint64(size - 1)
	m.rows = make([]float32, 0, len(weights)*nOut)
	// Insertion in sorted order makes the table (and so the encoded file) reproducible.
	hs := make([]uint64, 0, len(weights))
	for h := range weights {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	for _, h := range hs {
		if h == 0 {
			continue
		}
		i := h & m.mask
		for m.slots[i].key != 0 {
			i = (i + 1) & m.mask
		}
		m.slots[i] = slot{key: h, idx: int32(len(m.rows))}
		m.rows = append(m.rows, weights[h]...)
	}
	return m
}

// Row returns the weights of feature h, or nil when the model does not know it.
func (m *Model) Row(h uint64) []float32 {
	i := h & m.mask
	for {
		sl := &m.slots[i]
		if sl.key == h {
			j := sl.idx
			return m.rows[j : j+int32(m.NOut) : j+int32(m.NOut)]
		}
		if sl.key == 0 {
			return nil
		}
		i = (i + 1) & m.mask
	}
}

// Len is the number of features with weights.
func (m *Model) Len() int { return len(m.rows) / max(m.NOut, 1) }

const magic = "CVLM"

// Encode writes the model in the file format above.
func (m *Model) Encode(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(zw)
	le := binary.LittleEndian
	bw.WriteString(magic)
	binary.Write(bw, le, uint16(len(m.FeatureVersion)))
	bw.WriteString(m.FeatureVersion)
	binary.Write(bw, le, uint16(m.NOut))
	binary.Write(bw, le, uint16(len(m.Params)))
	binary.Write(bw, le, m.Params)
	n := m.Len()
	binary.Write(bw, le, uint32(n))
	scale := make([]float32, m.NOut)
	for i, v := range m.rows {
		o := i % m.NOut
		scale[o] = max(scale[o], float32(math.Abs(float64(v))))
	}
	for o := range scale {
		scale[o] = max(scale[o], 1e-6) / 32767
	}
	binary.Write(bw, le, scale)
	var hs []uint64
	for _, sl := range m.slots {
		if sl.key != 0 {
			hs = append(hs, sl.key)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	q := make([]int16, m.NOut)
	for _, h := range hs {
		row := m.Row(h)
		for o, v := range row {
			q[o] = int16(math.Round(float64(v / scale[o])))
		}
		binary.Write(bw, le, h)
		binary.Write(bw, le, q)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Decode reads a model written by Encode.
func Decode(data []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("linmodel: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("linmodel: %w", err)
	}
	r := bytes.NewReader(raw)
	le := binary.LittleEndian
	var mg [4]byte
	if _, err := io.ReadFull(r, mg[:]); err != nil || string(mg[:]) != magic {
		return nil, errors.New("linmodel: not a model file")
	}
	var vlen, nOut, nParams uint16
	binary.Read(r, le, &vlen)
	ver := make([]byte, vlen)
	io.ReadFull(r, ver)
	binary.Read(r, le, &nOut)
	binary.Read(r, le, &nParams)
	params := make([]float32, nParams)
	binary.Read(r, le, params)
	var n uint32
	if err := binary.Read(r, le, &n); err != nil {
		return nil, fmt.Errorf("linmodel: truncated header: %w", err)
	}
	if nOut == 0 || uint64(n)*uint64(8+2*int(nOut)) > uint64(len(raw)) {
		return nil, errors.New("linmodel: corrupt header")
	}
	scale := make([]float32, nOut)
	binary.Read(r, le, scale)
	weights := make(map[uint64][]float32, n)
	keys := make([]uint64, 0, n)
	qs := make([]int16, 0, int(n)*int(nOut)) // the keys' rows, for Packed
	q := make([]int16, nOut)
	for i := uint32(0); i < n; i++ {
		var h uint64
		binary.Read(r, le, &h)
		if err := binary.Read(r, le, q); err != nil {
			return nil, fmt.Errorf("linmodel: truncated weights: %w", err)
		}
		row := make([]float32, nOut)
		for o, v := range q {
			row[o] = float32(v) * scale[o]
		}
		weights[h] = row
		keys = append(keys, h)
		qs = append(qs, q...)
	}
	m := New(string(ver), int(nOut), params, weights)
	m.packed = newPacked(keys, qs, scale)
	return m, nil
}

// Packed is a decoded model's weight table laid out for the analyzer's
// inner loop: each slot holds the key and the quantised weights together (32
// bytes, two slots to a cache line), so a feature costs one cache line
// instead of two or three (the key's slot, then a 56-byte float row that
// usually straddles two lines), and the table takes half the memory.
// Outputs after the last one that any feature weighs (themes with no
// training labels) are not stored.
type Packed struct {
	words  []uint64 // slot i at words[i*stride:]: key, then int16 weights four to a word
	stride int
	mask   uint64
	width  int
	scale  []float32 // per output, padded with zeros to a multiple of four
}

// Packed returns the packed table of a model read by Decode, or nil for a
// model built by New (the trainer's, whose weights were never quantised).
func (m *Model) Packed() *Packed { return m.packed }

// newPacked builds the table from keys[i] → q[i*len(scale):][:len(scale)];
// a repeated key keeps its last row, as Decode's map does.
func newPacked(keys []uint64, q []int16, scale []float32) *Packed {
	nOut := len(scale)
	width := 0
	for i := range keys {
		row := q[i*nOut : (i+1)*nOut]
		for o := nOut - 1; o >= width; o-- {
			if row[o] != 0 {
				width = o + 1
				break
			}
		}
	}
	nw := (width + 3) / 4
	p := &Packed{stride: 1 + nw, width: width, scale: make([]float32, 4*nw)}
	copy(p.scale, scale[:width])
	size := 16
	for size < len(keys)*3/2 {
		size *= 2
	}
	p.words = make([]uint64, size*p.stride)
	p.mask = uint64(size - 1)
	for k, h := range keys {
		if h == 0 {
			continue
		}
		i := h & p.mask
		for p.words[int(i)*p.stride] != 0 && p.words[int(i)*p.stride] != h {
			i = (i + 1) & p.mask
		}
		sl := p.words[int(i)*p.stride : int(i+1)*p.stride]
		clear(sl)
		sl[0] = h
		row := q[k*nOut : (k+1)*nOut]
		for o := 0; o < width; o++ {
			sl[1+o/4] |= uint64(uint16(row[o])) << (16 * (o % 4))
		}
	}
	return p
}

// Width is the number of leading outputs stored; the weights of the others
// are zero for every feature.
func (p *Packed) Width() int { return p.width }

// Touch reads the first slot feature h probes and returns its key, so that a
// caller can start the cache misses of all its features at once (the loads
// are independent and overlap) before reading the rows one by one.
func (p *Packed) Touch(h uint64) uint64 { return p.words[int(h&p.mask)*p.stride] }

// Find returns the slot of feature h for Weights, or -1 when the model does
// not know h.
func (p *Packed) Find(h uint64) int {
	i := h & p.mask
	for {
		off := int(i) * p.stride
		k := p.words[off]
		if k == 0 {
			return -1
		}
		if k == h {
			return off
		}
		i = (i + 1) & p.mask
	}
}

// Weights writes the weights of the feature at slot off into dst, in groups
// of four outputs: as many groups as fit in dst, up to Width rounded up to
// four. The first Width values are exactly Model.Row's, the padding zero. A
// caller that needs only the first outputs passes a short dst and decodes
// only those.
func (p *Packed) Weights(off int, dst []float32) {
	ws := p.words[off+1 : off+p.stride]
	ws = ws[:min(len(ws), len(dst)/4)]
	for j, w := range ws {
		d := dst[4*j : 4*j+4 : 4*j+4]
		sc := p.scale[4*j : 4*j+4 : 4*j+4]
		d[0] = float32(int16(w)) * sc[0]
		d[1] = float32(int16(w>>16)) * sc[1]
		d[2] = float32(int16(w>>32)) * sc[2]
		d[3] = float32(int16(w>>48)) * sc[3]
	}
}
