package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/carevoice/carevoice/analytics"
)

// Streams for the analyze and eval commands; tests swap them.
var (
	cmdStdin  io.Reader = os.Stdin
	cmdStdout io.Writer = os.Stdout
	cmdStderr io.Writer = os.Stderr
)

// cmdAnalyze implements `carevoice analyze` (SPEC "Commands").
func cmdAnalyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(cmdStderr)
	inPath := fs.String("in", "-", "input CSV with a text column (optional id, question, intent); - is stdin")
	outPath := fs.String("out", "-", "output file; - is stdout")
	format := fs.String("format", "csv", "output format: csv or jsonl")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "analyzer goroutines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: carevoice analyze [--in F] [--out F] [--format csv|jsonl] [--workers N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("analyze: unexpected argument %q", fs.Arg(0))
	}
	if *format != "csv" && *format != "jsonl" {
		return fmt.Errorf("analyze: --format must be csv or jsonl, not %q", *format)
	}
	if *workers < 1 {
		return fmt.Errorf("analyze: --workers must be at least 1")
	}
	a, err := analytics.New()
	if err != nil {
		return err
	}

	in := cmdStdin
	if *inPath != "-" && *inPath != "" {
		f, err := os.Open(*inPath)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		defer f.Close()
		in = f
	}
	out := cmdStdout
	var outFile *os.File
	if *outPath != "-" && *outPath != "" {
		outFile, err = os.Create(*outPath)
		if err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		defer outFile.Close()
		out = outFile
	}

	opts := analytics.StreamOptions{Format: *format, Workers: *workers, Errors: cmdStderr}
	tty := false
	if f, ok := cmdStderr.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	start := time.Now()
	if tty {
		opts.Progress = func(n int) {
			fmt.Fprintf(cmdStderr, "\ranalyze: %d comments (%.0f/s)", n, float64(n)/time.Since(start).Seconds())
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := a.AnalyzeStream(ctx, in, out, opts)
	if tty {
		fmt.Fprintln(cmdStderr)
	}
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if outFile != nil {
		if err := outFile.Close(); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	if st.BadLines > 0 {
		return fmt.Errorf("analyze: %d invalid input lines skipped (listed above); %d comments written", st.BadLines, st.Written)
	}
	return nil
}

// cmdEval implements `carevoice eval` (SPEC "Commands").
func cmdEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(cmdStderr)
	data := fs.String("data", "", "labelled CSV: id,question,text,sentiment,themes")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	timing := fs.Duration("timing", 2*time.Second, "how long to measure throughput (0 skips it)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: carevoice eval --data F [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errors.New("eval: --data is required")
	}
	f, err := os.Open(*data)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rows, err := analytics.ReadLabelled(f)
	f.Close()
	if err != nil {
		return err
	}
	a, err := analytics.New()
	if err != nil {
		return err
	}
	rep := analytics.Evaluate(a, rows, *timing)
	if *asJSON {
		enc := json.NewEncoder(cmdStdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(cmdStdout)
}
