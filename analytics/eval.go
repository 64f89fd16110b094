package analytics

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Labelled is one row of an eval file (SPEC "CSV formats":
// id,question,text,sentiment,themes).
type Labelled struct {
	ID        string
	Question  string
	Intent    Intent
	Text      string
	Sentiment string // positive | neutral | negative
	Themes    []string
}

// ReadLabelled reads an eval file. Columns are found by header name; text and
// sentiment are required. An optional intent column wins over the question.
func ReadLabelled(r io.Reader) ([]Labelled, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("eval: reading header: %w", err)
	}
	col := columns(header)
	for _, need := range []string{"text", "sentiment"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("eval: no %q column in header %q", need, strings.Join(header, ","))
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var rows []Labelled
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("eval: %w", err)
		}
		l := Labelled{ID: get(rec, "id"), Question: get(rec, "question"), Text: get(rec, "text"),
			Sentiment: strings.ToLower(strings.TrimSpace(get(rec, "sentiment")))}
		switch l.Sentiment {
		case Positive, Neutral, Negative:
		case Mixed:
			l.Sentiment = Neutral
		default:
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("eval: line %d: sentiment %q is not positive, neutral or negative", line, l.Sentiment)
		}
		if in := get(rec, "intent"); in != "" {
			l.Intent = ParseIntent(in)
		} else {
			l.Intent = IntentFor(l.Question)
		}
		for _, t := range strings.Split(get(rec, "themes"), ";") {
			if t = strings.TrimSpace(t); t != "" {
				l.Themes = append(l.Themes, t)
			}
		}
		rows = append(rows, l)
	}
	return rows, nil
}

// columns maps lower-cased header names to their index; a UTF-8 byte order
// mark (Excel) on the first name is ignored.
func columns(header []string) map[string]int {
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	return col
}

// ClassScore is precision, recall and F1 of one label.
type ClassScore struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`   // labelled with it
	Predicted int     `json:"predicted"` // predicted as it
	Correct   int     `json:"correct"`   // labelled and predicted with it
}

// Report is the outcome of Evaluate.
type Report struct {
	Comments int `json:"comments"`
	// Confusion[gold][predicted] over SentimentLabels; a mixed prediction
	// counts as neutral (SPEC).
	SentimentLabels  []string     `json:"sentiment_labels"`
	Confusion        [3][3]int    `json:"confusion"`
	Accuracy         float64      `json:"accuracy"`
	Sentiment        []ClassScore `json:"sentiment"`
	SentimentMacroF1 float64      `json:"sentiment_macro_f1"`
	Themes           []ClassScore `json:"themes"`
	// ThemeMacroF1 averages the themes with at least ThemeMinSupport examples.
	ThemeMacroF1      float64  `json:"theme_macro_f1"`
	ThemeMinSupport   int      `json:"theme_min_support"`
	ThemesInMacro     []string `json:"themes_in_macro"`
	CommentsPerSecond float64  `json:"comments_per_second"`
	// InTraining counts the rows the analyzer's model was fitted on (same
	// intent and text, Fingerprint): on those the figures are in-sample and
	// flatter the analyzer.
	InTraining int `json:"in_training"`
	// Unseen scores only the rows the model was not fitted on, when the file
	// mixes both.
	Unseen *Report `json:"unseen,omitempty"`
	// TrainingEstimate is what the trainer's nested cross-validation
	// predicted for comments the model never saw (nil when unknown).
	TrainingEstimate *Estimate `json:"training_estimate,omitempty"`
}

// ThemeMinSupport is the number of labelled examples a theme needs to count in
// the theme macro-F1 (SPEC "CSV formats").
const ThemeMinSupport = 20

var sentimentLabels = []string{Positive, Neutral, Negative}

// Evaluate scores a against labelled rows. Throughput is measured on one
// goroutine, over as many passes as it takes to time at least timing.
func Evaluate(a *Analyzer, rows []Labelled, timing time.Duration) Report {
	results := make([]Result, len(rows))
	for i, r := range rows {
		results[i] = a.Analyze(r.Text, r.Intent)
	}
	rep := evaluate(rows, results)
	if tr := a.Training(); tr != nil {
		rep.TrainingEstimate = tr.Estimate()
		var unseen []Labelled
		var unseenRes []Result
		for i, r := range rows {
			if tr.Seen(r.Text, r.Intent) {
				rep.InTraining++
			} else {
				unseen, unseenRes = append(unseen, r), append(unseenRes, results[i])
			}
		}
		if rep.InTraining > 0 && len(unseen) > 0 {
			u := evaluate(unseen, unseenRes)
			rep.Unseen = &u
		}
	}
	if len(rows) > 0 && timing > 0 {
		n := 0
		start := time.Now()
		for time.Since(start) < timing {
			for _, r := range rows {
				a.Analyze(r.Text, r.Intent)
			}
			n += len(rows)
		}
		rep.CommentsPerSecond = float64(n) / time.Since(start).Seconds()
	}
	return rep
}

// evaluate scores the analyzer's results against rows' labels: confusion
// matrix and theme counts.
func evaluate(rows []Labelled, results []Result) Report {
	rep := Report{Comments: len(rows), SentimentLabels: sentimentLabels, ThemeMinSupport: ThemeMinSupport}
	idx := map[string]int{Positive: 0, Neutral: 1, Mixed: 1, Negative: 2}
	themeIdx := map[string]int{}
	for i, t := range ThemeIDs {
		themeIdx[t] = i
	}
	tp := make([]int, len(ThemeIDs))
	fp := make([]int, len(ThemeIDs))
	fn := make([]int, len(ThemeIDs))
	gold := make([]bool, len(ThemeIDs))
	for k, r := range rows {
		res := results[k]
		rep.Confusion[idx[r.Sentiment]][idx[res.Sentiment]]++
		clear(gold)
		for _, t := range r.Themes {
			if i, ok := themeIdx[t]; ok {
				gold[i] = true
			}
		}
		pred := make([]bool, len(ThemeIDs))
		for _, h := range res.Themes {
			pred[themeIdx[h.ID]] = true
		}
		for i := range ThemeIDs {
			switch {
			case gold[i] && pred[i]:
				tp[i]++
			case pred[i]:
				fp[i]++
			case gold[i]:
				fn[i]++
			}
		}
	}
	rep.finish(tp, fp, fn)
	return rep
}

// Combine pools reports on disjoint rows (the folds of a cross-validation)
// into one, as if all rows had been scored together.
func Combine(reps []Report) Report {
	out := Report{SentimentLabels: sentimentLabels, ThemeMinSupport: ThemeMinSupport}
	tp := make([]int, len(ThemeIDs))
	fp := make([]int, len(ThemeIDs))
	fn := make([]int, len(ThemeIDs))
	for _, r := range reps {
		out.Comments += r.Comments
		for g := range out.Confusion {
			for p := range out.Confusion[g] {
				out.Confusion[g][p] += r.Confusion[g][p]
			}
		}
		for i, t := range r.Themes {
			tp[i] += t.Correct
			fp[i] += t.Predicted - t.Correct
			fn[i] += t.Support - t.Correct
		}
	}
	out.finish(tp, fp, fn)
	return out
}

// finish derives the scores from the confusion matrix and theme counts.
func (rep *Report) finish(tp, fp, fn []int) {
	rep.Sentiment, rep.Themes, rep.ThemesInMacro = nil, nil, nil
	rep.SentimentMacroF1, rep.ThemeMacroF1 = 0, 0
	correct := 0
	for c, label := range sentimentLabels {
		correct += rep.Confusion[c][c]
		var support, predicted int
		for o := range sentimentLabels {
			support += rep.Confusion[c][o]
			predicted += rep.Confusion[o][c]
		}
		cs := score(label, rep.Confusion[c][c], predicted-rep.Confusion[c][c], support-rep.Confusion[c][c])
		rep.Sentiment = append(rep.Sentiment, cs)
		rep.SentimentMacroF1 += cs.F1 / float64(len(sentimentLabels))
	}
	if rep.Comments > 0 {
		rep.Accuracy = float64(correct) / float64(rep.Comments)
	}
	for i, id := range ThemeIDs {
		cs := score(id, tp[i], fp[i], fn[i])
		rep.Themes = append(rep.Themes, cs)
		if cs.Support >= ThemeMinSupport {
			rep.ThemesInMacro = append(rep.ThemesInMacro, id)
			rep.ThemeMacroF1 += cs.F1
		}
	}
	if n := len(rep.ThemesInMacro); n > 0 {
		rep.ThemeMacroF1 /= float64(n)
	}
}

func score(label string, tp, fp, fn int) ClassScore {
	cs := ClassScore{Label: label, Support: tp + fn, Predicted: tp + fp, Correct: tp}
	if tp+fp > 0 {
		cs.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		cs.Recall = float64(tp) / float64(tp+fn)
	}
	if cs.Precision+cs.Recall > 0 {
		cs.F1 = 2 * cs.Precision * cs.Recall / (cs.Precision + cs.Recall)
	}
	return cs
}

// WriteText prints the report for people.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "comments\t%d\t\n", r.Comments)
	fmt.Fprintf(tw, "analyzer\t%s\t\n", Version)
	if err := tw.Flush(); err != nil {
		return err
	}
	// Said before the tables: a reader who stops at the first macro F1 must
	// not take an in-sample figure for the analyzer's accuracy.
	var note strings.Builder
	if r.InTraining > 0 {
		fmt.Fprintf(&note, "\nNOTE: %d of these %d comments (%.0f%%) are in the data the model was trained on,\n"+
			"so the figures below overstate its accuracy on new comments", r.InTraining, r.Comments,
			100*float64(r.InTraining)/float64(r.Comments))
		if r.Unseen != nil {
			fmt.Fprintf(&note, "; the %d it never saw are\nscored on their own at the end", r.Unseen.Comments)
		}
		note.WriteString(".\n")
	}
	if e := r.TrainingEstimate; e != nil {
		fmt.Fprintf(&note, "\nEstimate for comments the model never saw: sentiment macro F1 %.3f, theme macro F1 %.3f\n"+
			"(%s over the %d comments of %s it was trained on).\n", e.SentimentMacroF1, e.ThemeMacroF1, e.Method, e.Comments, e.Data)
	}
	note.WriteString("\n")
	if _, err := io.WriteString(w, note.String()); err != nil {
		return err
	}
	fmt.Fprintf(tw, "sentiment: gold \\ predicted\t")
	for _, l := range r.SentimentLabels {
		fmt.Fprintf(tw, "%s\t", l)
	}
	fmt.Fprintln(tw)
	for g, l := range r.SentimentLabels {
		fmt.Fprintf(tw, "%s\t", l)
		for p := range r.SentimentLabels {
			fmt.Fprintf(tw, "%d\t", r.Confusion[g][p])
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\nsentiment\tprecision\trecall\tF1\tsupport\t\n")
	for _, c := range r.Sentiment {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t\n", c.Label, c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(tw, "macro F1\t\t\t%.3f\t\t\n", r.SentimentMacroF1)
	fmt.Fprintf(tw, "accuracy\t\t\t%.3f\t\t\n", r.Accuracy)
	fmt.Fprintf(tw, "\ntheme\tprecision\trecall\tF1\tsupport\tpredicted\t\n")
	for _, c := range r.Themes {
		mark := ""
		if c.Support < r.ThemeMinSupport {
			mark = " (not in macro)"
		}
		fmt.Fprintf(tw, "%s%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t\n", c.Label, mark, c.Precision, c.Recall, c.F1, c.Support, c.Predicted)
	}
	fmt.Fprintf(tw, "macro F1 (support >= %d)\t\t\t%.3f\t\t\t\n", r.ThemeMinSupport, r.ThemeMacroF1)
	if r.CommentsPerSecond > 0 {
		fmt.Fprintf(tw, "\nthroughput (one core)\t%.0f comments/s\t\n", r.CommentsPerSecond)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Unseen != nil {
		u := *r.Unseen
		u.TrainingEstimate = nil
		if _, err := fmt.Fprintf(w, "\n== only the %d comments the model was not trained on ==\n", u.Comments); err != nil {
			return err
		}
		return u.WriteText(w)
	}
	return nil
}
