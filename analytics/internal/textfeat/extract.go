package textfeat

import (
	"math"
	"slices"
	"strings"
)

// FeatureVersion names the feature set. A model file records the version it was
// trained with, and the analyzer refuses a model trained on other features.
// Change it whenever tokens, lexicons or feature names change.
const FeatureVersion = "tf-6"

// Intents, as small integers for feature names.
const (
	IntentOpen = iota
	IntentPraise
	IntentImprove
	NumIntents
)

// Feat is one feature of a comment. Tok is the token it belongs to (for evidence
// and per-clause scores) or -1 for a feature of the whole comment.
type Feat struct {
	H   uint64
	V   float32
	Tok int32
	// Rule marks features made by the lexicons and rules rather than by a
	// word or word pair; the trainer can regularise them differently, so that
	// a rule keeps its say on comments whose words the training data never showed.
	Rule bool
	// Intent marks a word crossed with the question's intent; the trainer
	// lets only the sentiment outputs use these (cross-validation: they help
	// sentiment and only add noise to themes).
	Intent bool
	// Theme marks a word near a theme pattern's match, crossed with the
	// theme (Options.ThemeContext); only the theme outputs learn from it.
	Theme bool
}

// Span is a clause or a sentence: a run of tokens and the bytes they cover.
type Span struct {
	TokStart, TokEnd int // token indices, end exclusive
	Start, End       int // byte offsets of the first and last word
	Val              float32
	Wish             bool // advice or a request: "answer the phone quicker"
	AfterContrast    bool // follows "but", "however": it carries the point
}

// Doc is the analysis scratch space for one comment. Reuse it (Reset) to keep
// the hot path free of allocations.
type Doc struct {
	Toks      []Token
	TokVal    []float32 // lexicon valence after negation and modifiers
	TokNeg    []bool    // inside a negation scope
	Clauses   []Span
	Sentences []Span
	TokClause []int32
	tokEnt    []entry // what the lexicon knows about each token, looked up once
	Feats     []Feat
	// RuleTok[t] lists tokens where a hand-written rule for theme t matched.
	RuleTok [NumThemes][]int32
	// Sure has bit t set when a rule named theme t outright ("=portal").
	Sure uint16
	// Nothing is set when the whole answer is "nothing", "none", "n/a" or alike.
	Nothing     bool
	HasContrast bool
	Pos, Neg    float32 // summed positive and negative valence
	scratch     []byte
	seen        []seenSlot // dedupWords' set
	gen         uint32
}

// Reset empties d for reuse.
func (d *Doc) Reset() {
	d.Toks = d.Toks[:0]
	d.TokVal = d.TokVal[:0]
	d.TokNeg = d.TokNeg[:0]
	d.Clauses = d.Clauses[:0]
	d.Sentences = d.Sentences[:0]
	d.TokClause = d.TokClause[:0]
	d.tokEnt = d.tokEnt[:0]
	d.Feats = d.Feats[:0]
	for i := range d.RuleTok {
		d.RuleTok[i] = d.RuleTok[i][:0]
	}
	d.Nothing, d.HasContrast = false, false
	d.Pos, d.Neg = 0, 0
	d.Sure = 0
}

// Options switches optional feature families. The trainer compares them by
// cross-validation; the analyzer uses DefaultOptions, the set its embedded
// model was trained with.
type Options struct {
	// CharGrams adds hashed character n-grams of each word (n = CharGrams,
	// with word-boundary marks), so that "apointment" shares weight with
	// "appointment". 0 is off.
	CharGrams int
	// CharMinLen: only words at least this long get character n-grams (short
	// words are rarely misspelt and are many).
	CharMinLen int
	// IntentWords crosses each word with the question's intent: "more staff"
	// answers "what could we improve?" with a complaint.
	IntentWords bool
	// IntentPairs crosses word pairs with the intent too.
	IntentPairs bool
	// Binary counts a word (pair, stem, …) once per comment: a word repeated
	// in a long comment is no stronger evidence of a theme.
	Binary bool
	// ThemeContext crosses the words within this many tokens of a theme
	// pattern's match (same clause) with the theme: "waited" near "hours"
	// and "waited" near "advice" tell the theme outputs different things.
	// 0 is off.
	ThemeContext int
	// Opposition adds how strongly praise and complaint meet in one comment
	// (products of the positive and negative lexicon sums, and of the best
	// and worst clause): a linear model cannot form them from the sums.
	Opposition bool
}

// DefaultOptions is the feature set of the embedded model (chosen by 5-fold
// cross-validation, see BENCHMARKS.md "Analyzer"). Changing it needs a retrain
// and a new FeatureVersion.
var DefaultOptions = Options{IntentWords: true, Binary: true}

// Extractor holds the compiled lexicons. It is immutable after NewExtractor and
// safe for concurrent use.
type Extractor struct {
	opt     Options
	words   map[uint64]entry // while building; lookups go through wt
	wt      hashTable[entry]
	phrases map[uint64][]phrase // by first token; such words carry fPhrase
	spell   hashTable[uint64]   // a misspelt word's hash to the lexicon word's
}

var (
	hashNum = HashString("#num")
	hashAnd = HashString("and")
)

// Salts that keep feature families apart in one hash space.
const (
	saltNeg    = 0x9e3779b97f4a7c15
	saltBigram = 0xc2b2ae3d27d4eb4f
	saltIntent = 0x165667b19e3779f9
	saltStem   = 0x27d4eb2f165667c5
	saltCtx    = 0x85ebca6b0b4f1f15
)

// Global feature hashes.
var (
	ftBias        = HashString("#bias")
	ftLexPos      = HashString("#lexpos")
	ftLexNeg      = HashString("#lexneg")
	ftTokLex      = HashString("#toklex")
	ftExcl        = HashString("#excl")
	ftQuest       = HashString("#quest")
	ftCaps        = HashString("#caps")
	ftWish        = HashString("#wish")
	ftContrast    = HashString("#contrast")
	ftBothPol     = HashString("#bothpol")
	ftNothingLead = HashString("#nothinglead")
	ftNothing     = HashString("#nothing")
	ftLen         = HashString("#len")
	ftIntent      = HashString("#intent")
	ftRule        [NumThemes]uint64
	ftNPos        = HashString("#npos")
	ftNNeg        = HashString("#nneg")
	ftMinC        = HashString("#minclause")
	ftMaxC        = HashString("#maxclause")
	ftOppLex      = HashString("#opplex")
	ftOppClause   = HashString("#oppclause")
)

// valBin buckets a clause valence.
func valBin(v float32) int {
	switch {
	case v <= -3:
		return 0
	case v <= -1.5:
		return 1
	case v <= -0.5:
		return 2
	case v < 0.5:
		return 3
	case v < 1.5:
		return 4
	case v < 3:
		return 5
	}
	return 6
}

func init() {
	for t := range ftRule {
		ftRule[t] = HashString("#rule" + string(rune('a'+t)))
	}
}

// cross ties a feature to the question's intent: "more staff" is a complaint
// answering "how could we improve?" and a compliment answering "what was good?".
func cross(h uint64, intent int) uint64 { return mix(h ^ (saltIntent * uint64(intent+1))) }

// NewExtractor compiles the lexicons, with the default feature set.
func NewExtractor() *Extractor { return NewExtractorWith(DefaultOptions) }

// NewExtractorWith compiles the lexicons for the feature set o.
func NewExtractorWith(o Options) *Extractor {
	x := &Extractor{
		opt:     o,
		words:   map[uint64]entry{},
		phrases: map[uint64][]phrase{},
	}
	spell := map[uint64]uint64{}
	for _, f := range strings.Fields(spellings) {
		from, to, _ := strings.Cut(f, ":")
		spell[HashString(from)] = HashString(to)
	}
	x.spell = newHashTable(spell)
	addVal := func(list string) {
		for _, f := range strings.Fields(list) {
			w, v, _ := strings.Cut(f, ":")
			e := x.words[x.normWord(w)]
			e.val = float32(parseFloat(v))
			x.words[x.normWord(w)] = e
		}
	}
	addVal(positiveWords)
	addVal(negativeWords)
	addVal(spanishWords)
	addFlag := func(list string, fl uint16) {
		for _, w := range strings.Fields(list) {
			toks := x.normPhrase(w)
			if len(toks) == 1 {
				e := x.words[toks[0]]
				e.flags |= fl
				x.words[toks[0]] = e
			} else {
				x.phrases[toks[0]] = append(x.phrases[toks[0]], phrase{toks: toks, flags: fl})
			}
		}
	}
	addFlag(negators, fNegator)
	addFlag(intensifier, fIntensify)
	addFlag(downtoner, fDowntone)
	addFlag(contrasts, fContrast)
	addFlag(wishes, fWish)
	addFlag(comparative, fComparative)
	addFlag(nothings, fNothing)
	addFlag(boundaries, fBoundary)
	for t, list := range themeWords {
		for _, item := range strings.Fields(list) {
			neg := strings.HasPrefix(item, "!")
			item = strings.TrimPrefix(item, "!")
			sure := strings.HasPrefix(item, "=")
			item = strings.TrimPrefix(item, "=")
			for _, form := range inflect(item) {
				toks := x.normPhrase(strings.ReplaceAll(form, "_", " "))
				if len(toks) == 0 {
					continue
				}
				bit := uint16(1) << t
				var sureBit uint16
				if sure {
					sureBit = bit
				}
				if len(toks) == 1 {
					e := x.words[toks[0]]
					e.sure |= sureBit
					if neg {
						e.negThemes |= bit
					} else {
						e.themes |= bit
					}
					x.words[toks[0]] = e
					continue
				}
				// One phrase may signal several themes ("never called back":
				// ignored and follow-up); matching stops at the first phrase
				// that fits, so the themes of equal phrases are merged.
				ps := x.phrases[toks[0]]
				k := slices.IndexFunc(ps, func(q phrase) bool { return q.veto == 0 && slices.Equal(q.toks, toks) })
				if k < 0 {
					ps = append(ps, phrase{toks: toks})
					k = len(ps) - 1
				}
				ps[k].sure |= sureBit
				if neg {
					ps[k].negThemes |= bit
				} else {
					ps[k].themes |= bit
				}
				x.phrases[toks[0]] = ps
			}
		}
	}
	for _, v := range vetoPhrases {
		toks := x.normPhrase(v.text)
		x.phrases[toks[0]] = append(x.phrases[toks[0]], phrase{toks: toks, veto: 1 << v.theme})
	}
	setFlag := func(h uint64, fl uint16) {
		e := x.words[h]
		e.flags |= fl
		x.words[h] = e
	}
	for _, w := range strings.Fields(fillerWords) {
		setFlag(x.normWord(w), fFiller)
	}
	for _, w := range strings.Fields(imperatives) {
		setFlag(x.normWord(w), fImperative)
	}
	for _, w := range strings.Fields(objectWords) {
		setFlag(x.normWord(w), fObject)
	}
	for h := range x.phrases {
		// Only words that open a phrase need the phrase map looked up.
		setFlag(h, fPhrase)
	}
	x.wt = newHashTable(x.words)
	// Longest phrases first, so that the most specific one wins.
	for k, ps := range x.phrases {
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && len(ps[j].toks) > len(ps[j-1].toks); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
		x.phrases[k] = ps
	}
	return x
}

// Words that may make up a "nothing to say" answer besides the nothing word itself.
const fillerWords = `nothing none na n a nil nope no not really at all i can cant think of anything comment comments
improvement improvements needed need to improve say add else that much its it is was fine thank thanks you
everything good great all ok okay the way as it currently thats could be done better changed change
keep up work doing just carry on same`

// Verbs that open a piece of advice when they start a clause.
const imperatives = `answer be listen get give make keep have provide improve reduce stop try take let send check tell
explain ring call treat put hire employ increase allow ensure speed offer show update arrange book inform
use train consider introduce respond return look shorten remember stay ask pay fix clean sort communicate
employ recruit maybe perhaps`

// inflect expands "wait|s|ed" to wait, waits, waited.
func inflect(item string) []string {
	parts := strings.Split(item, "|")
	out := []string{parts[0]}
	for _, suf := range parts[1:] {
		out = append(out, parts[0]+suf)
	}
	return out
}

func parseFloat(s string) float64 {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var v, scale float64 = 0, 0
	for _, c := range s {
		switch {
		case c == '.':
			scale = 1
		case c >= '0' && c <= '9':
			v = v*10 + float64(c-'0')
			if scale > 0 {
				scale *= 10
			}
		}
	}
	if scale > 0 {
		v /= scale
	}
	if neg {
		v = -v
	}
	return v
}

// normWord hashes a lexicon word the way Tokenize hashes text.
func (x *Extractor) normWord(w string) uint64 {
	toks := x.normPhrase(w)
	if len(toks) == 0 {
		return 0
	}
	return toks[0]
}

func (x *Extractor) normPhrase(p string) []uint64 {
	toks, _ := x.Tokenize(p, nil, nil)
	out := make([]uint64, 0, len(toks))
	for _, t := range toks {
		if t.Kind == KindWord || t.Kind == KindNum {
			out = append(out, t.Hash)
		}
	}
	return out
}

// canonical is the hash of the lexicon word h stands for: its spelling fix,
// or h itself.
func (x *Extractor) canonical(h uint64) uint64 {
	if to, ok := x.spell.get(h); ok {
		return to
	}
	return h
}

// Extract tokenizes text and fills d with clauses, valences, rule matches and
// features. intent is one of IntentOpen, IntentPraise, IntentImprove.
func (x *Extractor) Extract(text string, intent int, d *Doc) {
	d.Reset()
	d.Toks, d.scratch = x.Tokenize(text, d.Toks, d.scratch)
	toks := d.Toks
	n := len(toks)
	for _, t := range toks {
		d.TokVal = append(d.TokVal, 0)
		d.TokNeg = append(d.TokNeg, false)
		d.TokClause = append(d.TokClause, 0)
		d.tokEnt = append(d.tokEnt, x.word(t.Hash))
	}
	x.clauses(text, d)
	x.valence(d)
	x.themes(d)
	x.nothing(d)

	// Features.
	add := func(h uint64, v float32, tok int) {
		d.Feats = append(d.Feats, Feat{H: h, V: v, Tok: int32(tok), Rule: true})
	}
	// Binary: a word feature counts once per comment, its first occurrence
	// kept (rule and lexicon features keep their sums).
	binary := x.opt.Binary
	if binary {
		bound := 5 * n // word, stem, pair and their intent crosses: at most 5 a token
		if x.opt.CharGrams > 0 {
			bound += len(text) + 2*n // a word of L letters has at most L+2 grams
		}
		if w := x.opt.ThemeContext; w > 0 {
			for t := range d.RuleTok {
				bound += 2 * w * len(d.RuleTok[t])
			}
		}
		d.beginSeen(bound)
	}
	addWord := func(h uint64, tok int) {
		if binary && !d.firstTime(h) {
			return
		}
		d.Feats = append(d.Feats, Feat{H: h, V: 1, Tok: int32(tok)})
	}
	addIntent := func(h uint64, tok int) {
		if binary && !d.firstTime(h) {
			return
		}
		d.Feats = append(d.Feats, Feat{H: h, V: 1, Tok: int32(tok), Intent: true})
	}
	add(ftBias, 1, -1)
	add(cross(ftIntent, intent), 1, -1)
	words := 0
	caps := 0
	excl, quest := 0, 0
	prev := uint64(0) // previous word in the clause, for bigrams
	prevClause := -1
	for i, t := range toks {
		c := int(d.TokClause[i])
		if c != prevClause {
			prev, prevClause = 0, c
		}
		switch t.Kind {
		case KindPunct:
			switch t.Punct {
			case '!':
				excl += t.End - t.Start
			case '?':
				quest++
			}
			prev = 0
			continue
		case KindWord, KindNum, KindEmoji:
		}
		words++
		if t.Caps {
			caps++
		}
		h := t.Hash
		if d.TokNeg[i] {
			h = mix(h ^ saltNeg)
		}
		addWord(h, i)
		if x.opt.IntentWords && intent != IntentOpen {
			addIntent(cross(h, intent), i)
		}
		if n := x.opt.CharGrams; n > 0 && t.Kind == KindWord && t.End-t.Start >= x.opt.CharMinLen {
			start := len(d.Feats)
			d.Feats = charGrams(text[t.Start:t.End], n, i, d.Feats)
			if binary {
				kept := d.Feats[:start]
				for _, f := range d.Feats[start:] {
					if d.firstTime(f.H) {
						kept = append(kept, f)
					}
				}
				d.Feats = kept
			}
		}
		if t.Stem != 0 {
			sh := mix(t.Stem ^ saltStem)
			if d.TokNeg[i] {
				sh = mix(sh ^ saltNeg)
			}
			addWord(sh, i)
		}
		if prev != 0 {
			bh := mix(prev*31 ^ t.Hash ^ saltBigram)
			addWord(bh, i)
			if x.opt.IntentPairs && intent != IntentOpen {
				addIntent(cross(bh, intent), i)
			}
		}
		prev = t.Hash
		if v := d.TokVal[i]; v != 0 {
			add(ftTokLex, v/2, i)
		}
	}
	for t := range d.RuleTok {
		for _, ti := range d.RuleTok[t] {
			add(ftRule[t], 1, int(ti))
			add(cross(ftRule[t], intent), 1, int(ti))
		}
	}
	if w := x.opt.ThemeContext; w > 0 {
		for t := range d.RuleTok {
			for _, ti := range d.RuleTok[t] {
				c := d.Clauses[d.TokClause[ti]]
				for j := max(int(ti)-w, c.TokStart); j < min(int(ti)+w+1, c.TokEnd); j++ {
					if j == int(ti) || toks[j].Kind != KindWord {
						continue
					}
					h := toks[j].Hash
					if d.TokNeg[j] {
						h = mix(h ^ saltNeg)
					}
					h = mix(h ^ saltCtx*uint64(t+1))
					if binary && !d.firstTime(h) {
						continue
					}
					d.Feats = append(d.Feats, Feat{H: h, V: 1, Tok: int32(j), Theme: true})
				}
			}
		}
	}
	add(ftLexPos, squash(d.Pos), -1)
	add(ftLexNeg, squash(d.Neg), -1)
	add(cross(ftLexPos, intent), squash(d.Pos), -1)
	add(cross(ftLexNeg, intent), squash(d.Neg), -1)
	if excl > 0 {
		add(ftExcl, float32(min(excl, 3)), -1)
	}
	if quest > 0 {
		add(ftQuest, 1, -1)
	}
	if caps > 1 && caps*2 >= words {
		add(ftCaps, 1, -1)
	}
	// Coarse lexicon summaries let a linear model use the lexicon non-linearly:
	// one strongly negative clause matters more than many mild words.
	npos, nneg := 0, 0
	for _, v := range d.TokVal {
		if v > 0.3 {
			npos++
		} else if v < -0.3 {
			nneg++
		}
	}
	minC, maxC := float32(0), float32(0)
	for _, c := range d.Clauses {
		minC, maxC = min(minC, c.Val), max(maxC, c.Val)
	}
	if x.opt.Opposition {
		lex := 4 * squash(d.Pos) * squash(d.Neg)
		cl := float32(math.Tanh(float64(maxC)/2) * math.Tanh(float64(-minC)/2))
		add(ftOppLex, lex, -1)
		add(cross(ftOppLex, intent), lex, -1)
		add(ftOppClause, cl, -1)
		add(cross(ftOppClause, intent), cl, -1)
	}
	for _, h := range [...]uint64{
		mix(ftNPos ^ uint64(min(npos, 3))), mix(ftNNeg ^ uint64(min(nneg, 3))),
		mix(ftMinC ^ uint64(valBin(minC))), mix(ftMaxC ^ uint64(valBin(maxC))),
	} {
		add(h, 1, -1)
		add(cross(h, intent), 1, -1)
	}
	wish, hasPos, hasNeg := false, false, false
	for _, c := range d.Clauses {
		if c.Wish {
			wish = true
			add(cross(ftWish, intent), 1, c.TokStart)
		}
		if c.Val > 0.5 {
			hasPos = true
		}
		if c.Val < -0.5 {
			hasNeg = true
		}
	}
	if wish {
		add(ftWish, 1, -1)
	}
	if d.HasContrast {
		add(cross(ftContrast, intent), 1, -1)
	}
	if hasPos && hasNeg {
		add(cross(ftBothPol, intent), 1, -1)
	}
	if d.Nothing {
		add(cross(ftNothing, intent), 1, -1)
	} else if n > 0 && x.word(firstWord(toks)).flags&fNothing != 0 {
		add(cross(ftNothingLead, intent), 1, -1)
	}
	add(cross(ftLen^uint64(lenBucket(words)), intent), 1, -1)
}

// beginSeen empties the set of word features seen in this comment, sized
// for at most n of them. A small open-addressing set in the Doc keeps
// Binary allocation-free; slots carry the generation that filled them, so
// the set is never cleared.
func (d *Doc) beginSeen(n int) {
	size := 64
	for size < 2*n {
		size *= 2
	}
	if len(d.seen) < size {
		d.seen = make([]seenSlot, size)
		d.gen = 0
	}
	d.gen++
	if d.gen == 0 { // wrapped: stale stamps could read as current
		clear(d.seen)
		d.gen = 1
	}
}

// firstTime adds h to the set and reports whether it was not there yet.
func (d *Doc) firstTime(h uint64) bool {
	set, gen := d.seen, d.gen
	mask := uint64(len(set) - 1)
	slot := h & mask
	for set[slot].gen == gen {
		if set[slot].h == h {
			return false
		}
		slot = (slot + 1) & mask
	}
	set[slot] = seenSlot{h: h, gen: gen}
	return true
}

type seenSlot struct {
	h   uint64
	gen uint32
}

func firstWord(toks []Token) uint64 {
	for _, t := range toks {
		if t.Kind == KindWord {
			return t.Hash
		}
	}
	return 0
}

func lenBucket(n int) int {
	switch {
	case n <= 1:
		return n
	case n <= 3:
		return 2
	case n <= 6:
		return 3
	case n <= 12:
		return 4
	case n <= 25:
		return 5
	case n <= 50:
		return 6
	}
	return 7
}

// squash keeps long comments from dominating through sheer word count.
func squash(v float32) float32 {
	if v < 0 {
		v = -v
	}
	return v / (v + 4)
}

// clauses splits the tokens into clauses (at punctuation and contrast words)
// and sentences (at . ! ? and line breaks).
func (x *Extractor) clauses(text string, d *Doc) {
	toks := d.Toks
	cs := -1 // first word token of the open clause
	ss := -1 // first word token of the open sentence
	contrast := false
	closeClause := func(end int) {
		if cs < 0 {
			return
		}
		last := end - 1
		for last > cs && toks[last].Kind == KindPunct {
			last--
		}
		d.Clauses = append(d.Clauses, Span{TokStart: cs, TokEnd: end, Start: toks[cs].Start,
			End: toks[last].End, AfterContrast: contrast})
		contrast = false
		cs = -1
	}
	closeSentence := func(end int) {
		if ss < 0 {
			return
		}
		last := end - 1
		for last > ss && toks[last].Kind == KindPunct && toks[last].Punct != '!' && toks[last].Punct != '?' && toks[last].Punct != '.' {
			last--
		}
		d.Sentences = append(d.Sentences, Span{TokStart: ss, TokEnd: end, Start: toks[ss].Start, End: toks[last].End})
		ss = -1
	}
	for i, t := range toks {
		if t.Kind == KindPunct {
			switch t.Punct {
			case '.', '!', '?', '\n':
				closeClause(i + 1)
				closeSentence(i + 1)
			case ',', ';', ':', '(', ')', '-':
				closeClause(i)
			}
			continue
		}
		e := d.tokEnt[i]
		if e.flags&fContrast != 0 {
			closeClause(i)
			contrast = true
			d.HasContrast = true
		}
		if cs < 0 {
			cs = i
		}
		if ss < 0 {
			ss = i
		}
		d.TokClause[i] = int32(len(d.Clauses))
	}
	closeClause(len(toks))
	closeSentence(len(toks))
	// Punctuation belongs to the clause before it.
	for i := range toks {
		if toks[i].Kind == KindPunct && i > 0 {
			d.TokClause[i] = d.TokClause[i-1]
		}
	}
	for ci := range d.Clauses {
		c := &d.Clauses[ci]
		for i := c.TokStart; i < c.TokEnd; i++ {
			d.TokClause[i] = int32(ci)
		}
		// Advice: a modal ("should", "could"), or a clause that opens with a verb
		// or a comparative ("answer calls quicker", "more staff").
		first := true
		for i := c.TokStart; i < c.TokEnd; i++ {
			if toks[i].Kind != KindWord {
				continue
			}
			e := d.tokEnt[i]
			if e.flags&fWish != 0 || (first && (imperative(d, i, c.TokEnd) || e.flags&fComparative != 0)) {
				c.Wish = true
				break
			}
			first = false
		}
	}
}

// imperative reports whether the word at i opens advice ("answer the phone",
// "listen to patients"). A verb that is also a praise adjective ("clean",
// "calm") reads as the adjective unless an object follows it: "clean ward"
// is praise, "clean the toilets" is advice.
func imperative(d *Doc, i, end int) bool {
	e := d.tokEnt[i]
	if e.flags&fImperative == 0 {
		return false
	}
	if e.val <= 0 {
		return true
	}
	return i+1 < end && d.Toks[i+1].Kind == KindWord && d.tokEnt[i+1].flags&fObject != 0
}

// Words that follow a verb used as a command: "clean the", "clean up", "clean it".
const objectWords = `the a an up out it them your their our this that these those all more`

// valence scores each word from the lexicon, then applies negation scope,
// intensifiers, downtoners, capitals, exclamation, contrast and advice.
func (x *Extractor) valence(d *Doc) {
	toks := d.Toks
	for ci := range d.Clauses {
		c := &d.Clauses[ci]
		negLeft := 0 // words still inside the current negation scope
		boost := float32(1)
		excl := 0
		if c.TokEnd < len(toks) && toks[c.TokEnd-1].Kind == KindPunct && toks[c.TokEnd-1].Punct == '!' {
			excl = toks[c.TokEnd-1].End - toks[c.TokEnd-1].Start
		}
		for i := c.TokStart; i < c.TokEnd; i++ {
			t := toks[i]
			if t.Kind == KindPunct {
				if t.Punct == '!' {
					excl = t.End - t.Start
				}
				continue
			}
			e := d.tokEnt[i]
			if t.Kind == KindEmoji {
				e.val = emojiValence(t.Hash)
			}
			if negLeft > 0 {
				d.TokNeg[i] = true
				negLeft--
			}
			switch {
			case e.flags&fNegator != 0:
				// "not only" and "no doubt" do not negate.
				if i+1 < c.TokEnd && (toks[i+1].Hash == hOnly || toks[i+1].Hash == hDoubt) {
					continue
				}
				negLeft = 3
				continue
			case e.flags&fIntensify != 0:
				boost *= 1.3
				continue
			case e.flags&fDowntone != 0:
				boost *= 0.7
				continue
			case e.flags&fBoundary != 0:
				negLeft = 0
				boost = 1
				continue
			}
			v := e.val
			if v == 0 {
				continue
			}
			v *= boost
			boost = 1
			if t.Caps {
				v *= 1.25
			}
			if d.TokNeg[i] {
				// Negation flips and dampens: "not bad" is mildly good, "not good" is bad.
				v *= -0.7
			}
			if c.Wish && v > 0 {
				// "answer calls quicker", "staff should be kinder": praise words in
				// advice describe what is missing.
				v *= -0.6
			}
			d.TokVal[i] = v
		}
		// Emphasis and contrast weigh on the whole clause.
		mult := float32(1)
		if excl > 0 {
			mult += 0.1 * float32(min(excl, 3))
		}
		if c.AfterContrast {
			mult *= 1.3
		}
		if ci+1 < len(d.Clauses) && d.Clauses[ci+1].AfterContrast {
			mult *= 0.7
		}
		var sum float32
		for i := c.TokStart; i < c.TokEnd; i++ {
			d.TokVal[i] *= mult
			sum += d.TokVal[i]
			if d.TokVal[i] > 0 {
				d.Pos += d.TokVal[i]
			} else {
				d.Neg -= d.TokVal[i]
			}
		}
		c.Val = sum
	}
}

var (
	hOnly  = HashString("only")
	hDoubt = HashString("doubt")
)

var emojiVal = func() map[uint64]float32 {
	m := map[uint64]float32{}
	for _, r := range "😀😃😄😁😊🙂😍🥰😘👍👏❤💕💖💙💚💛💜🙏⭐🌟✨😇🤗👌💯🎉☺✅" {
		m[HashString(string(r))] = 2.5
	}
	for _, r := range "😡🤬😠😞😢😭👎💔😤😒🙁☹😩😫😖😣😔😟🤮😱" {
		m[HashString(string(r))] = -2.5
	}
	return m
}()

func emojiValence(h uint64) float32 { return emojiVal[h] }

// themes runs the hand-written theme patterns over the tokens.
func (x *Extractor) themes(d *Doc) {
	toks := d.Toks
	var veto [NumThemes]int // token index up to which a theme is vetoed
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Kind != KindWord {
			continue
		}
		// Phrases first; the longest match wins and covers its words.
		matched := 0
		var ps []phrase
		if d.tokEnt[i].flags&fPhrase != 0 {
			ps = x.phrases[t.Hash]
		}
		for _, p := range ps {
			if !x.matchPhrase(toks, i, p.toks) {
				continue
			}
			if p.veto != 0 {
				for th := 0; th < NumThemes; th++ {
					if p.veto&(1<<th) != 0 {
						veto[th] = i + len(p.toks)
					}
				}
				continue
			}
			if p.themes == 0 && p.negThemes == 0 {
				continue
			}
			h := ruleHit{bits: p.themes, sure: p.sure, negated: d.TokNeg[i] || negatedBefore(d, i)}
			if h.negated {
				h.negBits = p.negThemes
			}
			if d.TokNeg[i] {
				// A phrase names a problem when one of its words does ("long wait").
				for k := i; k < i+len(p.toks) && k < len(toks); k++ {
					h.problem = h.problem || d.tokEnt[k].val < 0
				}
			}
			x.addRule(d, h, i, &veto)
			matched = len(p.toks)
			break
		}
		if matched > 0 {
			i += matched - 1
			continue
		}
		e := d.tokEnt[i]
		if e.themes|e.negThemes == 0 {
			continue
		}
		h := ruleHit{bits: e.themes, sure: e.sure, negated: d.TokNeg[i] || negatedBefore(d, i), problem: e.val < 0}
		if h.negated {
			h.negBits = e.negThemes
		}
		if h.bits|h.negBits != 0 {
			x.addRule(d, h, i, &veto)
		}
	}
}

// negatedBefore reports whether a negator governs token i for the themes
// that only a negation signals, though i lies past the 3-word scope of
// sentiment: "didn't take my concerns seriously", "nobody at the desk even
// looked up". The negator must be within 6 words in the same clause, with no
// scope boundary ("and") and no opinion word between: in "couldn't fault the
// way they listened" the negation belongs to "fault".
func negatedBefore(d *Doc, i int) bool {
	c := d.Clauses[d.TokClause[i]]
	for j := i - 1; j >= c.TokStart && j >= i-6; j-- {
		t := d.Toks[j]
		if t.Kind != KindWord {
			return false
		}
		e := d.tokEnt[j]
		switch {
		case e.flags&fNegator != 0:
			return j+1 >= len(d.Toks) || (d.Toks[j+1].Hash != hOnly && d.Toks[j+1].Hash != hDoubt)
		case e.flags&fBoundary != 0 || e.val != 0:
			return false
		}
	}
	return false
}

// ruleHit is what a theme pattern at one token says.
type ruleHit struct {
	bits    uint16 // themes the word signals as written
	negBits uint16 // themes it signals because it is negated
	sure    uint16 // themes it names outright
	negated bool   // a negator governs it (its scope, or negatedBefore)
	problem bool   // it names something bad in itself (a negative valence: "wait", "rude"); read under negation only
}

// addRule records a theme pattern at token i.
func (x *Extractor) addRule(d *Doc, h ruleHit, i int, veto *[NumThemes]int) {
	// Being ignored or dismissed is a complaint even in neutral words ("nobody
	// came"), unless negated: "never once felt rushed" is no sign of either,
	// and its negation has already made it praise. Any other theme word under
	// negation is a service that did not happen ("didn't explain"), unless the
	// word names a problem (a negative valence of its own): "not rude at
	// all", "didn't have to wait", "no delays" are praise, as negation left
	// them.
	const complaint = 1<<ThIgnored | 1<<ThDismissed
	bits, negBits := h.bits, h.negBits
	if h.negated {
		bits &^= complaint
	}
	all := bits | negBits
	for th := 0; th < NumThemes; th++ {
		if all&(1<<th) != 0 && i >= veto[th] {
			d.RuleTok[th] = append(d.RuleTok[th], int32(i))
			d.Sure |= h.sure & (1 << th)
		}
	}
	if all == 0 {
		return
	}
	old := d.TokVal[i]
	v := old
	switch {
	case negBits&complaint != 0 || bits&complaint != 0:
		v = min(old, -2)
	case d.TokNeg[i] && old >= 0 && h.bits&complaint == 0 && !h.problem:
		v = -1
	}
	if v == old {
		return
	}
	if old > 0 {
		d.Pos -= old
	} else {
		d.Neg += old
	}
	d.Neg -= v
	d.Clauses[d.TokClause[i]].Val += v - old
	d.TokVal[i] = v
}

func (x *Extractor) matchPhrase(toks []Token, i int, p []uint64) bool {
	j := i
	for _, h := range p {
		for j < len(toks) && toks[j].Kind == KindPunct && toks[j].Punct == '-' {
			j++
		}
		if j >= len(toks) || toks[j].Hash != h || toks[j].Kind == KindPunct {
			return false
		}
		j++
	}
	return true
}

// nothing recognises the "nothing to add" answers: short, made only of nothing
// words and fillers, with at least one nothing word ("n/a", "can't think of anything").
func (x *Extractor) nothing(d *Doc) {
	words, nothings := 0, 0
	for i, t := range d.Toks {
		if t.Kind == KindPunct {
			continue
		}
		e := d.tokEnt[i]
		if t.Kind != KindWord || e.flags&fFiller == 0 {
			return
		}
		if e.flags&fNothing != 0 || t.Hash == hAnything || t.Hash == hN {
			nothings++
		}
		words++
		if words > 8 {
			return
		}
	}
	d.Nothing = nothings > 0
}

var (
	hAnything = HashString("anything")
	hN        = HashString("n")
)

const saltChar = 0x94d049bb133111eb

// charGrams appends the hashed character n-grams of word (lowercased ASCII
// letters; "^" and "$" mark its ends). Non-letters are skipped.
func charGrams(word string, n, tok int, feats []Feat) []Feat {
	var win uint64 // the last n bytes, one per byte lane
	mask := uint64(1)<<(8*uint(n)) - 1
	have := 1
	win = '^'
	emit := func() {
		if have >= n {
			feats = append(feats, Feat{H: mix((win&mask)*saltChar ^ saltChar), V: 1, Tok: int32(tok)})
		}
	}
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 'a' || c > 'z' {
			continue
		}
		win = win<<8 | uint64(c)
		have++
		emit()
	}
	win = win<<8 | '$'
	have++
	emit()
	return feats
}

// hashTable is a flat open-addressing table keyed by a word's hash (0 is
// never a key): the analyzer looks every word of every comment up in the
// lexicon (several times before) and in the spelling fixes, and a Go map
// costs about twice as much per lookup as one linear probe into a
// power-of-two array.
type hashTable[V any] struct {
	slots []hashSlot[V]
	mask  uint64
}

type hashSlot[V any] struct {
	key uint64 // 0: empty
	v   V
}

func newHashTable[V any](m map[uint64]V) hashTable[V] {
	size := 16
	for size < 2*len(m) {
		size *= 2
	}
	t := hashTable[V]{slots: make([]hashSlot[V], size), mask: uint64(size - 1)}
	for h, v := range m {
		if h == 0 {
			continue
		}
		i := h & t.mask
		for t.slots[i].key != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = hashSlot[V]{key: h, v: v}
	}
	return t
}

// get returns the value stored for h and whether there is one.
func (t *hashTable[V]) get(h uint64) (V, bool) {
	i := h & t.mask
	for {
		sl := &t.slots[i]
		if sl.key == h && h != 0 {
			return sl.v, true
		}
		if sl.key == 0 {
			var zero V
			return zero, false
		}
		i = (i + 1) & t.mask
	}
}

// word is what the lexicon knows about the word with hash h (zero if nothing).
func (x *Extractor) word(h uint64) entry {
	e, _ := x.wt.get(h)
	return e
}
