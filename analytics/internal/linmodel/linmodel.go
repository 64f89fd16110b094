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
	}
	return New(string(ver), int(nOut), params, weights), nil
}
