// Package analytics tags a patient's free-text answer with sentiment and themes.
//
// The analyzer is a plain value with no database and no global mutable state:
// build it once with New and share it between goroutines.
//
// How it reads a comment: a hand-written tokenizer (it also undoes stray
// encoding marks such as "â€™"), healthcare lexicons and rules (negation scope,
// intensifiers, contrast, advice phrased as a wish, theme patterns), pretrained
// word vectors (internal/wordvec) and a small linear model trained on labelled
// NHS comments (see internal/train). The rules
// are features of the model, so the model learns how much to trust each; the
// rules alone decide what the training data cannot teach (billing, privacy,
// the question's intent on "nothing" answers).
package analytics

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/carevoice/carevoice/analytics/internal/linmodel"
	"github.com/carevoice/carevoice/analytics/internal/textfeat"
	"github.com/carevoice/carevoice/analytics/internal/wordvec"
)

// Version identifies the rules that produced a Result; stored beside every
// result so that `carevoice retag` can find results older than the current rules.
const Version = "1.3.0"

// Intent is what the question asked for; it changes how short answers read.
type Intent string

const (
	IntentPraise  Intent = "praise"
	IntentImprove Intent = "improve"
	IntentOpen    Intent = "open"
)

// Sentiment labels (SPEC "Analysis of comments").
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
	Mixed    = "mixed"
)

// ThemeIDs lists the fixed theme ids in taxonomy order.
var ThemeIDs = []string{"wait_times", "ignored", "dismissed", "staff_attitude", "communication",
	"access", "environment", "clinical_care", "follow_up", "billing", "privacy"}

// ThemeHit is one theme found in a comment, with the phrase that shows it.
type ThemeHit struct {
	ID       string `json:"id"`
	Polarity string `json:"polarity"` // positive | negative | neutral
	Evidence string `json:"evidence"`
	Start    int    `json:"start"` // byte offsets of Evidence in the text
	End      int    `json:"end"`
}

// Sentence is the analysis of one sentence of the comment.
type Sentence struct {
	Start int     `json:"start"`
	End   int     `json:"end"`
	Score float64 `json:"score"`
}

// Result is the analysis of one comment.
type Result struct {
	Sentiment string     `json:"sentiment"`
	Score     float64    `json:"score"`
	Themes    []ThemeHit `json:"themes"`
	Sentences []Sentence `json:"sentences,omitempty"`
	Version   string     `json:"version"`
}

// Model outputs: three sentiment logits, then one logit per theme.
const (
	outPos = iota
	outNeu
	outNeg
	outTheme
	numOut = outTheme + textfeat.NumThemes
)

// Decision parameters stored in the model file beside the weights, because
// the trainer tunes them with cross-validation together with the weights.
const (
	parClassBias = 0                                 // 3 offsets added to the sentiment logits
	parThreshold = parClassBias + 3                  // per theme: logit above which the theme is hit
	parMode      = parThreshold + textfeat.NumThemes // per theme: ModeRules, ModeModel or ModeEither
	parMixed     = parMode + textfeat.NumThemes      // clause score both ways that makes a contrast "mixed"
	parOneSided  = parMixed + 1                      // lexicon valence that overrides a neutral call when no word argues back
	parRuleShift = parOneSided + 1                   // per theme, ModeSplit: threshold shift when a pattern matched
	NumParams    = parRuleShift + textfeat.NumThemes
)

// Indices of the rule thresholds among the params, for the trainer.
const (
	ParMixed     = parMixed
	ParOneSided  = parOneSided
	ParRuleShift = parRuleShift
)

// Theme decision modes (stored as params).
const (
	ModeRules  = 0 // no training data: the hand-written patterns decide
	ModeModel  = 1 // the model decides (the patterns are among its features)
	ModeEither = 2 // few examples: the model or a pattern
	ModeSplit  = 3 // the model, with a lower (or higher) bar where a pattern matched
)

//go:embed model.bin
var embeddedModel []byte

// Analyzer is safe for concurrent use.
type Analyzer struct {
	x    *textfeat.Extractor
	m    *linmodel.Model
	pk   *linmodel.Packed // m's weights as the hot loop reads them
	wv   *wvProj          // nil when the model has no word-vector weights
	pool sync.Pool        // *scratch
	// embedded is set for the shipped model, whose training record Training
	// reads on first use (eval needs it; the server does not).
	embedded bool
	training *Training // a record given in place of the embedded one (tests)
}

// wvProj holds the model's word-vector weights projected onto every word of
// the vector table: the logits of a mean of vectors are the mean of the
// words' projected logits, so a comment costs one table probe and nOut adds a
// word instead of a 100-dimensional sum and a matrix product.
type wvProj struct {
	tab     *wordvec.Table
	intents int       // 1, or textfeat.NumIntents when the features are crossed with the intent
	nOut    int       // outputs with weights: the sentiment three, or all
	p       []float32 // [set][intent][word][nOut]
	// The shipped layout (sentiment only, not crossed) keeps each word's
	// projections beside its key: one cache line a word instead of two
	// (the vector table's slot, then the row).
	fast []wvSlot
	mask uint64
}

type wvSlot struct {
	key uint64
	row [wordvec.NumSets * outTheme]float32
}

// newWVProj projects m's word-vector weights (wordvec.FeatHash rows), or
// returns nil when m has none.
func newWVProj(m *linmodel.Model) (*wvProj, error) {
	intents, nOut, found := 1, 0, false
	for set := 0; set < wordvec.NumSets; set++ {
		for in := 0; in < textfeat.NumIntents; in++ {
			for j := 0; j < wordvec.Dims; j++ {
				row := m.Row(wordvec.FeatHash(set, in, j))
				if row == nil {
					continue
				}
				found = true
				if in > 0 {
					intents = textfeat.NumIntents
				}
				nOut = max(nOut, outTheme)
				for o := outTheme; o < numOut; o++ {
					if row[o] != 0 {
						nOut = numOut
					}
				}
			}
		}
	}
	if !found {
		return nil, nil
	}
	tab, err := wordvec.Default()
	if err != nil {
		return nil, err
	}
	nw := tab.Len()
	w := &wvProj{tab: tab, intents: intents, nOut: nOut, p: make([]float32, wordvec.NumSets*intents*nw*nOut)}
	var wt [wordvec.Dims][numOut]float32
	for set := 0; set < wordvec.NumSets; set++ {
		for in := 0; in < intents; in++ {
			for j := range wt {
				wt[j] = [numOut]float32{}
				copy(wt[j][:], m.Row(wordvec.FeatHash(set, in, j)))
			}
			base := (set*intents + in) * nw * nOut
			for k := 0; k < nw; k++ {
				v, sc := tab.Vector(k)
				dst := w.p[base+k*nOut : base+(k+1)*nOut]
				for j, q := range v {
					x := float32(q) * sc
					for o := range dst {
						dst[o] += x * wt[j][o]
					}
				}
			}
		}
	}
	if intents == 1 && nOut == outTheme {
		size := 16
		for size < 2*nw {
			size *= 2
		}
		w.fast, w.mask = make([]wvSlot, size), uint64(size-1)
		for k := 0; k < nw; k++ {
			h := tab.Hash(k)
			i := h & w.mask
			for w.fast[i].key != 0 {
				i = (i + 1) & w.mask
			}
			sl := &w.fast[i]
			sl.key = h
			for set := 0; set < wordvec.NumSets; set++ {
				copy(sl.row[set*outTheme:(set+1)*outTheme], w.p[(set*nw+k)*outTheme:(set*nw+k+1)*outTheme])
			}
		}
		w.p = nil
	}
	return w, nil
}

// add adds the word-vector logits of d (the per-set means of its words'
// projections, as wordvec.Means feeds the trainer) to logit.
func (w *wvProj) add(d *textfeat.Doc, intent int, logit *[numOut]float32) {
	in := 0
	if w.intents > 1 {
		in = intent
	}
	nw := w.tab.Len()
	var acc [wordvec.NumSets][numOut]float32
	var n [wordvec.NumSets]int
	if w.fast != nil {
		for i := range d.Toks {
			set, ok := wordvec.TokenSet(d, i)
			if !ok {
				continue
			}
			h := d.Toks[i].Hash
			j := h & w.mask
			for w.fast[j].key != h && w.fast[j].key != 0 {
				j = (j + 1) & w.mask
			}
			sl := &w.fast[j]
			if sl.key == 0 {
				continue
			}
			r := sl.row[set*outTheme : (set+1)*outTheme : (set+1)*outTheme]
			acc[set][outPos] += r[outPos]
			acc[set][outNeu] += r[outNeu]
			acc[set][outNeg] += r[outNeg]
			n[set]++
		}
	} else {
		w.addSlow(d, in, nw, &acc, &n)
	}
	for set := range acc {
		if n[set] == 0 {
			continue
		}
		inv := 1 / float32(n[set])
		for o := 0; o < w.nOut; o++ {
			logit[o] += acc[set][o] * inv
		}
	}
}

func (w *wvProj) addSlow(d *textfeat.Doc, in, nw int, acc *[wordvec.NumSets][numOut]float32, n *[wordvec.NumSets]int) {
	for i := range d.Toks {
		set, ok := wordvec.TokenSet(d, i)
		if !ok {
			continue
		}
		k := w.tab.Index(d.Toks[i].Hash)
		if k < 0 {
			continue
		}
		off := ((set*w.intents+in)*nw + k) * w.nOut
		row := w.p[off : off+w.nOut : off+w.nOut]
		a := acc[set][:w.nOut]
		for o, v := range row {
			a[o] += v
		}
		n[set]++
	}
}

type scratch struct {
	doc      textfeat.Doc
	tokSent  []float32 // per token: contribution to positive minus negative
	tokTheme []float32 // per token and theme: contribution to the theme logit
	touched  uint64    // keeps the prefetching loads of Analyze from being optimised away
}

// New builds the analyzer (lexicons, models) once.
func New() (*Analyzer, error) {
	a, err := NewWithModel(embeddedModel)
	if err != nil {
		return nil, err
	}
	a.embedded = true
	return a, nil
}

// NewWithModel builds an analyzer around a model file written by the trainer;
// cross-validation uses it to score models that were never embedded.
func NewWithModel(model []byte) (*Analyzer, error) {
	m, err := linmodel.Decode(model)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	if m.FeatureVersion != textfeat.FeatureVersion || m.NOut != numOut || len(m.Params) != NumParams {
		return nil, fmt.Errorf("analytics: model was trained for features %q with %d outputs, want %q with %d: retrain (go run ./analytics/internal/train)",
			m.FeatureVersion, m.NOut, textfeat.FeatureVersion, numOut)
	}
	wv, err := newWVProj(m)
	if err != nil {
		return nil, fmt.Errorf("analytics: %w", err)
	}
	a := &Analyzer{x: textfeat.NewExtractor(), m: m, pk: m.Packed(), wv: wv}
	a.pool.New = func() any { return new(scratch) }
	return a, nil
}

func intentIndex(in Intent) int {
	switch in {
	case IntentPraise:
		return textfeat.IntentPraise
	case IntentImprove:
		return textfeat.IntentImprove
	}
	return textfeat.IntentOpen
}

// Analyze tags one comment. Empty text is neutral with no themes.
func (a *Analyzer) Analyze(text string, intent Intent) Result {
	res := Result{Sentiment: Neutral, Themes: []ThemeHit{}, Version: Version}
	if blank(text) {
		return res
	}
	s := a.pool.Get().(*scratch)
	defer a.pool.Put(s)
	d := &s.doc
	in := intentIndex(intent)
	a.x.Extract(text, in, d)
	nt := len(d.Toks)
	s.tokSent = resize(s.tokSent, nt)
	s.tokTheme = resize(s.tokTheme, nt*textfeat.NumThemes)

	var logit [numOut]float32
	pk := a.pk
	nTheme := pk.Width() - outTheme // theme outputs with weights; the rest stay zero
	var row [numOut + 3]float32     // Packed.Weights fills whole groups of four
	// Start every feature's cache miss before the loop that needs them: in
	// that loop each row waits for its own load.
	var touched uint64
	for _, f := range d.Feats {
		touched ^= pk.Touch(f.H)
	}
	s.touched = touched
	for _, f := range d.Feats {
		off := pk.Find(f.H)
		if off < 0 {
			continue
		}
		if f.Intent {
			// Intent-crossed words are trained for sentiment only (the trainer
			// refuses to embed anything else); skip the theme half of the work.
			pk.Weights(off, row[:4])
			logit[outPos] += row[outPos] * f.V
			logit[outNeu] += row[outNeu] * f.V
			logit[outNeg] += row[outNeg] * f.V
			if f.Tok >= 0 {
				s.tokSent[f.Tok] += (row[outPos] - row[outNeg]) * f.V
			}
			continue
		}
		pk.Weights(off, row[:])
		logit[outPos] += row[outPos] * f.V
		logit[outNeu] += row[outNeu] * f.V
		logit[outNeg] += row[outNeg] * f.V
		for t := 0; t < nTheme; t++ {
			logit[outTheme+t] += row[outTheme+t] * f.V
		}
		if f.Tok >= 0 {
			s.tokSent[f.Tok] += (row[outPos] - row[outNeg]) * f.V
			tt := s.tokTheme[int(f.Tok)*textfeat.NumThemes : int(f.Tok+1)*textfeat.NumThemes]
			for t := 0; t < nTheme; t++ {
				tt[t] += row[outTheme+t] * f.V
			}
		}
	}

	if a.wv != nil {
		// Word vectors speak for the comment as a whole: no per-token share
		// in the clause scores, which read the model's word weights.
		a.wv.add(d, in, &logit)
	}

	// Sentiment.
	p := a.m.Params
	var prob [3]float64
	maxl := math.Inf(-1)
	for c := range prob {
		prob[c] = float64(logit[c] + p[parClassBias+c])
		maxl = math.Max(maxl, prob[c])
	}
	var sum float64
	for c := range prob {
		prob[c] = math.Exp(prob[c] - maxl)
		sum += prob[c]
	}
	best := 0
	for c := range prob {
		prob[c] /= sum
		if prob[c] > prob[best] {
			best = c
		}
	}
	res.Score = clamp(prob[outPos] - prob[outNeg])
	res.Sentiment = [3]string{Positive, Neutral, Negative}[best]
	if d.Nothing {
		// SPEC: "nothing" answering an improve question is praise; answering a
		// praise question it is a complaint. Open questions keep the model's view.
		switch intent {
		case IntentImprove:
			res.Sentiment, res.Score = Positive, math.Max(res.Score, 0.5)
		case IntentPraise:
			res.Sentiment, res.Score = Negative, math.Min(res.Score, -0.5)
		}
	}

	if res.Sentiment == Neutral && !d.Nothing {
		// Short complaints in words the model has rarely seen ("I wasn't
		// listened to") come out neutral; a clear one-sided lexicon reading
		// decides them.
		switch th := p[parOneSided]; {
		case d.Pos == 0 && d.Neg >= th:
			res.Sentiment, res.Score = Negative, math.Min(res.Score, -0.2)
		case d.Neg == 0 && d.Pos >= th:
			res.Sentiment, res.Score = Positive, math.Max(res.Score, 0.2)
		}
	}

	// Clause scores: what the model's word weights say about each clause.
	clauseScore := func(c textfeat.Span) float64 {
		var v float32
		for i := c.TokStart; i < c.TokEnd; i++ {
			v += s.tokSent[i]
		}
		return math.Tanh(float64(v) / 2)
	}
	// A theme's polarity reads the clause's own words: the lexicon (with its
	// negation and advice rules) when it has an opinion, otherwise the model's
	// word weights. The model alone would call "booking was easy" negative
	// because most comments that mention booking complain.
	polarityScore := func(c textfeat.Span) float64 {
		if c.Val >= 0.5 || c.Val <= -0.5 {
			return math.Tanh(float64(c.Val) / 2)
		}
		return clauseScore(c)
	}
	if d.HasContrast && !d.Nothing {
		// "The nurse was lovely but the wait was awful": strong praise and strong
		// complaint in one comment make it mixed unless one clearly outweighs.
		// (Mixed on clauses without a contrast word was tried: CV +0.001 at
		// best, −0.03 at a low bar; not kept.)
		hi, lo := 0.0, 0.0
		for _, c := range d.Clauses {
			v := polarityScore(c)
			hi, lo = math.Max(hi, v), math.Min(lo, v)
		}
		m := float64(p[parMixed])
		if hi > m && lo < -m {
			res.Sentiment = Mixed
		}
	}
	res.Sentences = make([]Sentence, 0, len(d.Sentences))
	for _, sp := range d.Sentences {
		res.Sentences = append(res.Sentences, Sentence{Start: sp.Start, End: sp.End, Score: clauseScore(sp)})
	}

	// Themes.
	for t := 0; t < textfeat.NumThemes; t++ {
		rules := d.RuleTok[t]
		var hit bool
		switch int(p[parMode+t]) {
		case ModeRules:
			hit = len(rules) > 0
		case ModeModel:
			hit = logit[outTheme+t] > p[parThreshold+t]
		case ModeSplit:
			th := p[parThreshold+t]
			if len(rules) > 0 {
				th += p[parRuleShift+t]
			}
			hit = logit[outTheme+t] > th
		default:
			hit = len(rules) > 0 || logit[outTheme+t] > p[parThreshold+t]
		}
		// A word the training comments never used names its theme itself.
		hit = hit || d.Sure&(1<<t) != 0
		if !hit {
			continue
		}
		tok := a.evidenceToken(s, t)
		if tok < 0 {
			continue
		}
		c := d.Clauses[d.TokClause[tok]]
		pol := Neutral
		switch v := polarityScore(c); {
		case c.Wish && v < 0.3:
			pol = Negative
		case v > 0.25:
			pol = Positive
		case v < -0.25:
			pol = Negative
		case res.Sentiment == Positive || res.Sentiment == Negative:
			pol = res.Sentiment
		}
		if t == textfeat.ThIgnored || t == textfeat.ThDismissed {
			// SPEC: complaint-only themes, set on negative or mixed mentions.
			if pol != Negative && res.Sentiment != Negative && res.Sentiment != Mixed {
				continue
			}
			pol = Negative
		}
		start, end := evidenceSpan(text, d, c, tok)
		res.Themes = append(res.Themes, ThemeHit{ID: ThemeIDs[t], Polarity: pol,
			Evidence: text[start:end], Start: start, End: end})
	}
	return res
}

// evidenceToken picks the token that speaks most for theme t: a token where a
// hand-written pattern matched if there is one (it reads best as evidence),
// otherwise the token with the largest weight for the theme.
func (a *Analyzer) evidenceToken(s *scratch, t int) int {
	best, bestV := -1, float32(math.Inf(-1))
	for _, ti := range s.doc.RuleTok[t] {
		if v := s.tokTheme[int(ti)*textfeat.NumThemes+t]; best < 0 || v > bestV {
			best, bestV = int(ti), v
		}
	}
	if best >= 0 {
		return best
	}
	for i, tk := range s.doc.Toks {
		if tk.Kind == textfeat.KindPunct {
			continue
		}
		if v := s.tokTheme[i*textfeat.NumThemes+t]; v > bestV {
			best, bestV = i, v
		}
	}
	return best
}

// maxEvidence bounds an evidence phrase; a long clause is cut to the words
// around the token that showed the theme.
const maxEvidence = 90

func evidenceSpan(text string, d *textfeat.Doc, c textfeat.Span, tok int) (int, int) {
	start, end := c.Start, c.End
	if end-start <= maxEvidence {
		return start, end
	}
	lo, hi := tok, tok
	for lo > c.TokStart && d.Toks[tok].End-d.Toks[lo-1].Start <= maxEvidence/2 {
		lo--
	}
	for hi+1 < c.TokEnd && d.Toks[hi+1].End-d.Toks[lo].Start <= maxEvidence {
		hi++
	}
	return d.Toks[lo].Start, d.Toks[hi].End
}

// blank reports whether text is empty or all white space, as
// strings.TrimSpace(text) == "" does, without scanning a whole comment.
func blank(text string) bool {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c >= utf8.RuneSelf:
			return strings.TrimSpace(text[i:]) == ""
		case c != ' ' && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r':
			return false
		}
	}
	return true
}

func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func clamp(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(-1, math.Min(1, v))
}

// IntentFor infers a question's intent from its wording (SPEC "CSV formats").
func IntentFor(question string) Intent {
	q := strings.ToLower(question)
	words := strings.FieldsFunc(q, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r > 127)
	})
	for _, w := range words {
		switch {
		case strings.HasPrefix(w, "improve"), w == "better", strings.HasPrefix(w, "change"),
			strings.HasPrefix(w, "mejor"), strings.HasPrefix(w, "cambi"):
			return IntentImprove
		}
	}
	for _, w := range words {
		switch w {
		case "good", "well", "like", "liked", "bien", "bueno", "gustó", "gusto":
			return IntentPraise
		}
	}
	return IntentOpen
}

// ParseIntent reads an intent column value; anything unknown is open.
func ParseIntent(s string) Intent {
	switch Intent(strings.ToLower(strings.TrimSpace(s))) {
	case IntentPraise:
		return IntentPraise
	case IntentImprove:
		return IntentImprove
	}
	return IntentOpen
}
