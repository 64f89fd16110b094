// Command train fits the analyzer's linear model on a labelled CSV and writes
// analytics/model.bin, which the analytics package embeds.
//
//	go run ./analytics/internal/train                 # train on ../shared/data/fft-dev.csv, write the model, print CV
//	go run ./analytics/internal/train -cv=false       # full fit only
//
// It first runs k-fold cross-validation (train on k-1 folds, score the held-out
// fold with the real analyzer), because the in-sample score of a model with
// thousands of word weights says little about comments it has not seen. The
// decision parameters (class offsets, theme thresholds) are tuned on the
// out-of-fold scores, never on the rows a model was fitted to.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/analytics/internal/linmodel"
	"github.com/carevoice/carevoice/analytics/internal/textfeat"
)

const (
	numThemes = textfeat.NumThemes
	numOut    = 3 + numThemes
)

type config struct {
	Folds        int
	Iters        int
	LR           float64
	L2Sent       float64
	L2Theme      float64
	MinCount     int
	ClassPow     float64 // class weights (N/n_c)^ClassPow balance the rare neutral class
	ThemePos     float64 // weight of a positive theme example
	RuleL2       float64 // L2 scale for rule features relative to word features
	Seed         uint64
	MixedGrid    []float64
	OneSidedGrid []float64
}

type hv struct {
	i int32
	v float32
}

type example struct {
	feats  map[uint64]float32
	rule   map[uint64]bool // features made by rules, regularised by RuleL2
	sent   int             // 0 positive, 1 neutral, 2 negative
	themes [numThemes]bool
	rules  [numThemes]bool // a hand-written pattern matched
}

func main() {
	root := moduleRoot()
	var cfg config
	data := flag.String("data", filepath.Join(root, "..", "shared", "data", "fft-dev.csv"), "labelled CSV (id,question,text,sentiment,themes)")
	out := flag.String("out", filepath.Join(root, "analytics", "model.bin"), "model file to write")
	cv := flag.Bool("cv", true, "run k-fold cross-validation and tune decision parameters")
	jsonOut := flag.String("json", "", "write the CV and full-fit reports to this JSON file")
	flag.IntVar(&cfg.Folds, "folds", 5, "cross-validation folds")
	flag.IntVar(&cfg.Iters, "iters", 200, "full-batch Adam iterations")
	flag.Float64Var(&cfg.LR, "lr", 0.05, "Adam learning rate")
	flag.Float64Var(&cfg.L2Sent, "l2", 1e-3, "L2 penalty for the sentiment weights")
	flag.Float64Var(&cfg.L2Theme, "l2theme", 1e-3, "L2 penalty for the theme weights")
	flag.IntVar(&cfg.MinCount, "mincount", 2, "drop features seen in fewer comments")
	flag.Float64Var(&cfg.ClassPow, "classpow", 0.5, "class weight exponent")
	flag.Float64Var(&cfg.ThemePos, "themepos", 2, "weight of positive theme examples")
	flag.Float64Var(&cfg.RuleL2, "rulel2", 1, "L2 scale for rule and lexicon features")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "fold assignment seed")
	flag.Parse()
	// Both rules are part of the contract (SPEC: contrast makes "mixed"; a
	// comment whose only opinion words are clearly negative is not "neutral"),
	// so cross-validation picks their strength but may not switch them off.
	// Measured: switching either off moves CV macro-F1 by less than 0.005.
	cfg.MixedGrid = []float64{0.3, 0.45, 0.6, 0.75}
	cfg.OneSidedGrid = []float64{1.5, 2, 2.5, 3}

	f, err := os.Open(*data)
	if err != nil {
		fatal(err)
	}
	rows, err := analytics.ReadLabelled(f)
	f.Close()
	if err != nil {
		fatal(err)
	}
	x := textfeat.NewExtractor()
	exs := featurize(x, rows)
	fmt.Fprintf(os.Stderr, "train: %d comments from %s\n", len(rows), *data)

	params := defaultParams(exs)
	var cvRep *analytics.Report
	if *cv {
		// Out-of-fold logits tune the decision parameters; then the real
		// analyzer scores every held-out fold with them.
		folds := foldOf(len(exs), cfg.Folds, cfg.Seed)
		oof := make([][numOut]float64, len(exs))
		models := make([]map[uint64][]float32, cfg.Folds)
		for k := 0; k < cfg.Folds; k++ {
			var tr []example
			for i, e := range exs {
				if folds[i] != k {
					tr = append(tr, e)
				}
			}
			models[k] = fit(tr, cfg)
			for i, e := range exs {
				if folds[i] == k {
					oof[i] = logits(models[k], e)
				}
			}
		}
		params = tune(exs, oof)
		// The rule thresholds are chosen one after the other on the pooled
		// held-out folds.
		for _, par := range []struct {
			name string
			idx  int
			grid []float64
		}{
			{"mixed clause score", analytics.NumParams - 2, cfg.MixedGrid},
			{"one-sided lexicon", analytics.NumParams - 1, cfg.OneSidedGrid},
		} {
			best, bestV := -1.0, par.grid[len(par.grid)-1]
			for _, v := range par.grid {
				params[par.idx] = float32(v)
				rep := crossScore(rows, folds, models, params)
				fmt.Fprintf(os.Stderr, "train: %s %.2f: CV sentiment macro-F1 %.3f, theme macro-F1 %.3f\n", par.name, v, rep.SentimentMacroF1, rep.ThemeMacroF1)
				if rep.SentimentMacroF1 > best+1e-9 {
					best, bestV = rep.SentimentMacroF1, v
					cvRep = &rep
				}
			}
			params[par.idx] = float32(bestV)
		}
		fmt.Println("== cross-validation (out-of-fold, pooled) ==")
		cvRep.WriteText(os.Stdout)
	}

	full := fit(exs, cfg)
	m := linmodel.New(textfeat.FeatureVersion, numOut, params, full)
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		fatal(err)
	}
	a, err := analytics.NewWithModel(buf.Bytes())
	if err != nil {
		fatal(err)
	}
	fullRep := analytics.Evaluate(a, rows, 0)
	fmt.Println("\n== full fit (in-sample) ==")
	fullRep.WriteText(os.Stdout)
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fatal(err)
	}
	fmt.Fprintf(os.Stderr, "train: wrote %s (%d features, %d bytes)\n", *out, m.Len(), buf.Len())
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{"config": cfg, "cv": cvRep, "full": fullRep, "params": params}, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fatal(err)
		}
	}
}

// crossScore runs the analyzer of each fold on its held-out rows.
func crossScore(rows []analytics.Labelled, folds []int, models []map[uint64][]float32, params []float32) analytics.Report {
	var reps []analytics.Report
	for k, w := range models {
		var buf bytes.Buffer
		if err := linmodel.New(textfeat.FeatureVersion, numOut, params, w).Encode(&buf); err != nil {
			fatal(err)
		}
		a, err := analytics.NewWithModel(buf.Bytes())
		if err != nil {
			fatal(err)
		}
		var held []analytics.Labelled
		for i, r := range rows {
			if folds[i] == k {
				held = append(held, r)
			}
		}
		reps = append(reps, analytics.Evaluate(a, held, 0))
	}
	return analytics.Combine(reps)
}

func featurize(x *textfeat.Extractor, rows []analytics.Labelled) []example {
	themeIdx := map[string]int{}
	for i, t := range analytics.ThemeIDs {
		themeIdx[t] = i
	}
	var d textfeat.Doc
	exs := make([]example, len(rows))
	for i, r := range rows {
		intent := textfeat.IntentOpen
		switch r.Intent {
		case analytics.IntentPraise:
			intent = textfeat.IntentPraise
		case analytics.IntentImprove:
			intent = textfeat.IntentImprove
		}
		x.Extract(r.Text, intent, &d)
		e := example{feats: map[uint64]float32{}}
		e.rule = map[uint64]bool{}
		for _, f := range d.Feats {
			e.feats[f.H] += f.V
			if f.Rule {
				e.rule[f.H] = true
			}
		}
		for t := range e.rules {
			e.rules[t] = len(d.RuleTok[t]) > 0
		}
		e.sent = map[string]int{analytics.Positive: 0, analytics.Neutral: 1, analytics.Negative: 2}[r.Sentiment]
		for _, t := range r.Themes {
			if ti, ok := themeIdx[t]; ok {
				e.themes[ti] = true
			}
		}
		exs[i] = e
	}
	return exs
}

// foldOf assigns rows to folds at random (seeded), so that each fold mixes
// trusts and questions like the held-back data does.
func foldOf(n, k int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 2))
	perm := r.Perm(n)
	folds := make([]int, n)
	for i, p := range perm {
		folds[p] = i % k
	}
	return folds
}

// fit trains multinomial logistic regression for sentiment and one binary
// logistic regression per theme, full batch with Adam and L2.
func fit(exs []example, cfg config) map[uint64][]float32 {
	df := map[uint64]int{}
	for _, e := range exs {
		for h := range e.feats {
			df[h]++
		}
	}
	index := map[uint64]int32{}
	var hashes []uint64
	for h, c := range df {
		if c >= cfg.MinCount {
			hashes = append(hashes, h)
		}
	}
	sort.Slice(hashes, func(i, j int) bool { return hashes[i] < hashes[j] })
	for i, h := range hashes {
		index[h] = int32(i)
	}
	bias := index[textfeat.HashString("#bias")]
	l2scale := make([]float64, len(hashes))
	for i := range l2scale {
		l2scale[i] = 1
	}
	for _, e := range exs {
		for h := range e.rule {
			if j, ok := index[h]; ok {
				l2scale[j] = cfg.RuleL2
			}
		}
	}
	docs := make([][]hv, len(exs))
	for i, e := range exs {
		for h, v := range e.feats {
			if j, ok := index[h]; ok {
				docs[i] = append(docs[i], hv{j, v})
			}
		}
		sort.Slice(docs[i], func(a, b int) bool { return docs[i][a].i < docs[i][b].i })
	}
	var classN [3]float64
	var themeN [numThemes]float64
	for _, e := range exs {
		classN[e.sent]++
		for t, y := range e.themes {
			if y {
				themeN[t]++
			}
		}
	}
	var classW [3]float64
	for c := range classW {
		classW[c] = math.Pow(float64(len(exs))/(3*math.Max(classN[c], 1)), cfg.ClassPow)
	}
	nf := len(hashes)
	w := make([]float64, nf*numOut)
	g := make([]float64, nf*numOut)
	m1 := make([]float64, nf*numOut)
	m2 := make([]float64, nf*numOut)
	const b1, b2, eps = 0.9, 0.999, 1e-8
	invN := 1 / float64(len(exs))
	for it := 1; it <= cfg.Iters; it++ {
		clear(g)
		for i, e := range exs {
			var z [numOut]float64
			for _, f := range docs[i] {
				row := w[int(f.i)*numOut : int(f.i+1)*numOut]
				for o := range z {
					z[o] += row[o] * float64(f.v)
				}
			}
			var gz [numOut]float64
			mx := math.Max(z[0], math.Max(z[1], z[2]))
			var s float64
			var p [3]float64
			for c := 0; c < 3; c++ {
				p[c] = math.Exp(z[c] - mx)
				s += p[c]
			}
			for c := 0; c < 3; c++ {
				y := 0.0
				if c == e.sent {
					y = 1
				}
				gz[c] = (p[c]/s - y) * classW[e.sent]
			}
			for t := 0; t < numThemes; t++ {
				if themeN[t] == 0 {
					continue
				}
				q := 1 / (1 + math.Exp(-z[3+t]))
				if e.themes[t] {
					gz[3+t] = (q - 1) * cfg.ThemePos
				} else {
					gz[3+t] = q
				}
			}
			for _, f := range docs[i] {
				row := g[int(f.i)*numOut : int(f.i+1)*numOut]
				for o := range gz {
					row[o] += gz[o] * float64(f.v) * invN
				}
			}
		}
		lr := cfg.LR
		c1 := 1 - math.Pow(b1, float64(it))
		c2 := 1 - math.Pow(b2, float64(it))
		for j := range w {
			if int32(j/numOut) != bias {
				if j%numOut < 3 {
					g[j] += cfg.L2Sent * l2scale[j/numOut] * w[j]
				} else {
					g[j] += cfg.L2Theme * l2scale[j/numOut] * w[j]
				}
			}
			m1[j] = b1*m1[j] + (1-b1)*g[j]
			m2[j] = b2*m2[j] + (1-b2)*g[j]*g[j]
			w[j] -= lr * (m1[j] / c1) / (math.Sqrt(m2[j]/c2) + eps)
		}
	}
	out := make(map[uint64][]float32, nf)
	for i, h := range hashes {
		row := make([]float32, numOut)
		keep := false
		for o := range row {
			row[o] = float32(w[i*numOut+o])
			if math.Abs(float64(row[o])) > 1e-4 {
				keep = true
			}
		}
		if keep {
			out[h] = row
		}
	}
	return out
}

func logits(w map[uint64][]float32, e example) [numOut]float64 {
	var z [numOut]float64
	for h, v := range e.feats {
		if row, ok := w[h]; ok {
			for o := range z {
				z[o] += float64(row[o] * v)
			}
		}
	}
	return z
}

func defaultParams(exs []example) []float32 {
	p := make([]float32, analytics.NumParams)
	var n [numThemes]int
	for _, e := range exs {
		for t, y := range e.themes {
			if y {
				n[t]++
			}
		}
	}
	for t := 0; t < numThemes; t++ {
		p[3+numThemes+t] = themeMode(n[t])
	}
	p[analytics.NumParams-2] = 0.6 // mixed
	p[analytics.NumParams-1] = 1e6 // one-sided override off
	return p
}

// themeMode: a theme with too few labelled examples to learn from (ignored,
// billing, privacy here) is left to the hand-written patterns; for the rest
// tune chooses between the model and "model or pattern".
func themeMode(n int) float32 {
	if n < analytics.ThemeMinSupport {
		return analytics.ModeRules
	}
	return analytics.ModeModel
}

// tune picks the class offsets and theme thresholds that maximise out-of-fold
// macro-F1.
func tune(exs []example, oof [][numOut]float64) []float32 {
	p := defaultParams(exs)
	bestF := -1.0
	for bn := -1.0; bn <= 1.0001; bn += 0.1 {
		for bg := -1.0; bg <= 1.0001; bg += 0.1 {
			var conf [3][3]int
			for i, e := range exs {
				z := oof[i]
				s := [3]float64{z[0], z[1] + bn, z[2] + bg}
				pred := 0
				for c := 1; c < 3; c++ {
					if s[c] > s[pred] {
						pred = c
					}
				}
				conf[e.sent][pred]++
			}
			if f := macroF1(conf); f > bestF+1e-9 {
				bestF = f
				p[0], p[1], p[2] = 0, float32(bn), float32(bg)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "train: class offsets neutral %+.1f negative %+.1f (OOF macro-F1 %.3f before rules)\n", p[1], p[2], bestF)
	for t := 0; t < numThemes; t++ {
		if p[3+numThemes+t] == analytics.ModeRules {
			continue
		}
		bestT, bestTF, bestMode := 0.0, -1.0, float32(analytics.ModeModel)
		for mode := analytics.ModeModel; mode <= analytics.ModeEither; mode++ {
			for th := -3.0; th <= 3.0001; th += 0.1 {
				tp, fp, fn := 0, 0, 0
				for i, e := range exs {
					pred := oof[i][3+t] > th || (mode == analytics.ModeEither && e.rules[t])
					switch {
					case pred && e.themes[t]:
						tp++
					case pred:
						fp++
					case e.themes[t]:
						fn++
					}
				}
				if tp == 0 {
					continue
				}
				if f := 2 * float64(tp) / float64(2*tp+fp+fn); f > bestTF+1e-9 {
					bestT, bestTF, bestMode = th, f, float32(mode)
				}
			}
		}
		p[3+t] = float32(bestT)
		p[3+numThemes+t] = bestMode
		fmt.Fprintf(os.Stderr, "train: %-15s mode %v threshold %+.1f OOF F1 %.3f\n", analytics.ThemeIDs[t], bestMode, bestT, bestTF)
	}
	return p
}

func macroF1(conf [3][3]int) float64 {
	var f float64
	for c := 0; c < 3; c++ {
		tp := conf[c][c]
		var sup, pred int
		for o := 0; o < 3; o++ {
			sup += conf[c][o]
			pred += conf[o][c]
		}
		if sup+pred > 0 {
			f += 2 * float64(tp) / float64(sup+pred)
		}
	}
	return f / 3
}

// moduleRoot finds the directory of go.mod from the working directory, so the
// default paths work from anywhere in the repository.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "train:", err)
	os.Exit(1)
}
