package analytics

import (
	"math"
	"testing"

	"github.com/carevoice/carevoice/analytics/internal/linmodel"
	"github.com/carevoice/carevoice/analytics/internal/textfeat"
	"github.com/carevoice/carevoice/analytics/internal/wordvec"
)

// TestWordVectorProjection checks that the analyzer's per-word projections
// give the logits the trainer's features (wordvec.Means times the weights)
// give, for the shipped layout (sentiment only, one slot a word), for theme
// and intent-crossed weights, and with negated and contrasted words.
func TestWordVectorProjection(t *testing.T) {
	tab, err := wordvec.Default()
	if err != nil {
		t.Fatal(err)
	}
	x := textfeat.NewExtractor()
	for _, v := range []struct{ crossed, sentOnly bool }{{false, true}, {false, false}, {true, false}} {
		crossed := v.crossed
		weights := map[uint64][]float32{}
		for set := 0; set < wordvec.NumSets; set++ {
			for in := 0; in < textfeat.NumIntents; in++ {
				if in > 0 && !crossed {
					break
				}
				for j := 0; j < wordvec.Dims; j++ {
					row := make([]float32, numOut)
					for o := range row {
						if o < outTheme || !v.sentOnly {
							row[o] = float32(math.Sin(float64(1+set*7+in*13+j*31+o*5))) / 4
						}
					}
					weights[wordvec.FeatHash(set, in, j)] = row
				}
			}
		}
		m := linmodel.New(textfeat.FeatureVersion, numOut, make([]float32, NumParams), weights)
		wv, err := newWVProj(m)
		if err != nil || wv == nil || (wv.fast != nil) != v.sentOnly {
			t.Fatalf("%+v: projection %v, %v", v, wv, err)
		}
		for _, tc := range []struct {
			text   string
			intent int
		}{
			{"The nurse was not rude at all and the ward was clean", textfeat.IntentOpen},
			{"more staff please", textfeat.IntentImprove},
			{"Lovely receptionist, didn't wait long", textfeat.IntentPraise},
			{"12345 !!!", textfeat.IntentOpen},
			{"The nurse was lovely but the wait was not short", textfeat.IntentOpen},
		} {
			var d textfeat.Doc
			x.Extract(tc.text, tc.intent, &d)
			var got [numOut]float32
			wv.add(&d, tc.intent, &got)
			var mean [wordvec.NumSets][wordvec.Dims]float32
			var n [wordvec.NumSets]int
			tab.Means(&d, &mean, &n)
			in := textfeat.IntentOpen
			if crossed {
				in = tc.intent
			}
			var want [numOut]float32
			for set := range mean {
				if n[set] == 0 {
					continue
				}
				for j, v := range mean[set] {
					row := m.Row(wordvec.FeatHash(set, in, j))
					for o := range want {
						want[o] += v * row[o]
					}
				}
			}
			for o := range want {
				if math.Abs(float64(got[o]-want[o])) > 1e-4 {
					t.Errorf("crossed %v %q output %d: projection %.6f, features %.6f", crossed, tc.text, o, got[o], want[o])
				}
			}
		}
	}
}
