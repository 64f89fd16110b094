package analytics

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// StreamOptions configures AnalyzeStream.
type StreamOptions struct {
	Format  string // "csv" (default) or "jsonl"
	Workers int    // analyzer goroutines; 0 means one per CPU
	// Errors receives one line per input line that is not valid CSV; the rest
	// of the input is still processed. Nil discards the reports.
	Errors io.Writer
	// Progress, when set, is called now and then with the number of comments
	// written so far, from the writing goroutine.
	Progress func(written int)
}

// Stats counts what AnalyzeStream did.
type Stats struct {
	Written  int // comments analyzed and written
	BadLines int // input lines skipped because they were not valid CSV
}

// ErrNoTextColumn is returned when the input header has no "text" column.
var ErrNoTextColumn = errors.New(`no "text" column in the header`)

const batchSize = 256

type streamRow struct {
	id, text string
	intent   Intent
	res      Result
}

type batch struct {
	rows []streamRow
	done chan struct{}
}

// AnalyzeStream reads comments as CSV (a header with a text column and
// optional id, question and intent columns) and writes one result per comment,
// in input order, as CSV (id,sentiment,score,themes) or JSON lines with
// evidence. Memory stays bounded whatever the input size: at most a few
// batches per worker are in flight.
func (a *Analyzer) AnalyzeStream(ctx context.Context, in io.Reader, out io.Writer, opts StreamOptions) (Stats, error) {
	var st Stats
	format := strings.ToLower(opts.Format)
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "jsonl" {
		return st, fmt.Errorf("unknown format %q (want csv or jsonl)", opts.Format)
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errw := opts.Errors
	if errw == nil {
		errw = io.Discard
	}

	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return st, errors.New("empty input: want a header row with a text column")
	}
	if err != nil {
		return st, fmt.Errorf("reading header: %w", err)
	}
	col := columns(header)
	textCol, ok := col["text"]
	if !ok {
		return st, fmt.Errorf("%w (found %q)", ErrNoTextColumn, strings.Join(header, ","))
	}
	idCol, hasID := col["id"]
	qCol, hasQ := col["question"]
	intentCol, hasIntent := col["intent"]

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *batch, workers)
	pending := make(chan *batch, 2*workers) // in input order, for the writer
	for w := 0; w < workers; w++ {
		go func() {
			for b := range jobs {
				for i := range b.rows {
					r := &b.rows[i]
					r.res = a.Analyze(r.text, r.intent)
				}
				close(b.done)
			}
		}()
	}

	// Reader: parse, report bad lines, cut into batches.
	readErr := make(chan error, 1)
	go func() {
		defer close(pending)
		defer close(jobs)
		rowNum := 0
		b := &batch{done: make(chan struct{})}
		send := func() bool {
			select {
			case pending <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return false
			}
			b = &batch{rows: make([]streamRow, 0, batchSize), done: make(chan struct{})}
			return true
		}
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					st.BadLines++
					fmt.Fprintf(errw, "analyze: line %d: %v\n", pe.StartLine, pe.Err)
					continue
				}
				readErr <- fmt.Errorf("reading input: %w", err)
				return
			}
			// FieldPos is valid only for a record that parsed.
			line, _ := cr.FieldPos(0)
			rowNum++
			if textCol >= len(rec) {
				st.BadLines++
				fmt.Fprintf(errw, "analyze: line %d: %d fields, no text column\n", line, len(rec))
				continue
			}
			r := streamRow{text: rec[textCol], id: strconv.Itoa(rowNum)}
			if hasID && idCol < len(rec) {
				r.id = rec[idCol]
			}
			switch {
			case hasIntent && intentCol < len(rec) && rec[intentCol] != "":
				r.intent = ParseIntent(rec[intentCol])
			case hasQ && qCol < len(rec):
				r.intent = IntentFor(rec[qCol])
			default:
				r.intent = IntentOpen
			}
			b.rows = append(b.rows, r)
			if len(b.rows) == batchSize && !send() {
				readErr <- ctx.Err()
				return
			}
		}
		if len(b.rows) > 0 && !send() {
			readErr <- ctx.Err()
			return
		}
		readErr <- nil
	}()

	// Writer: in input order.
	bw := bufio.NewWriterSize(out, 64<<10)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(bw)
		cw.Write([]string{"id", "sentiment", "score", "themes"})
	}
	var werr error
	lastProgress := time.Now()
	var themes []string
	rec := make([]string, 4)
	for b := range pending {
		select {
		case <-b.done:
		case <-ctx.Done():
			werr = ctx.Err()
		}
		if werr != nil {
			break
		}
		for i := range b.rows {
			r := &b.rows[i]
			if cw != nil {
				themes = themes[:0]
				for _, h := range r.res.Themes {
					themes = append(themes, h.ID)
				}
				rec[0], rec[1] = safeCell(r.id), r.res.Sentiment
				rec[2] = strconv.FormatFloat(r.res.Score, 'f', 3, 64)
				rec[3] = strings.Join(themes, ";")
				werr = cw.Write(rec)
			} else {
				var line []byte
				line, werr = json.Marshal(jsonRow{ID: r.id, Result: r.res})
				if werr == nil {
					line = append(line, '\n')
					_, werr = bw.Write(line)
				}
			}
			if werr != nil {
				break
			}
			st.Written++
		}
		if werr != nil {
			break
		}
		b.rows = nil // let the batch go as soon as it is written
		if opts.Progress != nil && time.Since(lastProgress) > 200*time.Millisecond {
			opts.Progress(st.Written)
			lastProgress = time.Now()
		}
	}
	if werr != nil {
		cancel()
		for range pending { // let the reader finish
		}
		<-readErr
		return st, fmt.Errorf("writing output: %w", werr)
	}
	if err := <-readErr; err != nil {
		return st, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return st, fmt.Errorf("writing output: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("writing output: %w", err)
	}
	if opts.Progress != nil {
		opts.Progress(st.Written)
	}
	return st, nil
}

type jsonRow struct {
	ID string `json:"id"`
	Result
}

// safeCell neutralises a spreadsheet formula in an id copied from the input,
// like every CareVoice CSV export does (SPEC "CSV formats").
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return "'" + s
	}
	return s
}
