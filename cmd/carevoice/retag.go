package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/storage"
)

// cmdRetag brings stored analyses up to the current analyzer version. It
// works in small batches, each its own short transaction, so submissions
// keep flowing while it runs, and it can be stopped and run again: the
// comments already done are no longer older than the analyzer.
func cmdRetag(args []string) error {
	fs := flag.NewFlagSet("retag", flag.ContinueOnError)
	c := dbFlags(fs)
	all := fs.Bool("all", false, "re-analyze every comment, not only those tagged by an older analyzer")
	batch := fs.Int("batch", 500, "comments per transaction")
	after := fs.Int64("after", 0, "resume after this response sequence number (printed in progress lines)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *batch < 1 || *batch > 10000 {
		return fmt.Errorf("--batch must be between 1 and 10000")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	st, err := openStore(ctx, c, newLogger())
	if err != nil {
		return err
	}
	defer st.Close()
	an, err := analytics.New()
	if err != nil {
		return err
	}
	n, err := retag(ctx, st, an, *all, *batch, *after, os.Stderr)
	fmt.Printf("retagged %d comments to analyzer %s\n", n, analytics.Version)
	return err
}

func retag(ctx context.Context, st *storage.Store, an *analytics.Analyzer, all bool, batch int, after int64, progress *os.File) (int, error) {
	done := 0
	afterQ := ""
	start := time.Now()
	for ctx.Err() == nil {
		items, err := st.CommentsToRetag(ctx, analytics.Version, all, after, afterQ, batch)
		if err != nil {
			return done, err
		}
		if len(items) == 0 {
			break
		}
		results := make([]analytics.Result, len(items))
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < len(items); i += workers {
					results[i] = an.Analyze(items[i].Text, analytics.Intent(items[i].Intent))
				}
			}(w)
		}
		wg.Wait()
		if err := st.SaveRetag(ctx, items, results); err != nil {
			return done, err
		}
		done += len(items)
		last := items[len(items)-1]
		after, afterQ = last.Seq, last.Question
		if progress != nil {
			fmt.Fprintf(progress, "retag: %d comments done (%.0f/s), resume with --after %d\n", done, float64(done)/time.Since(start).Seconds(), after-1)
		}
	}
	return done, ctx.Err()
}
