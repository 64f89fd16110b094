package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/carevoice/carevoice/storage"
)

// retentionConfig is how long personal data is kept; 0 keeps it.
type retentionConfig struct {
	ContactDays    int // CAREVOICE_RETAIN_CONTACT_DAYS, default 90
	CommentsMonths int // CAREVOICE_RETAIN_COMMENTS_MONTHS, default 0 (keep)
}

func retentionFromEnv() (retentionConfig, error) {
	rc := retentionConfig{ContactDays: 90}
	for _, v := range []struct {
		env string
		dst *int
	}{{"CAREVOICE_RETAIN_CONTACT_DAYS", &rc.ContactDays}, {"CAREVOICE_RETAIN_COMMENTS_MONTHS", &rc.CommentsMonths}} {
		if s := os.Getenv(v.env); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > 100*366 {
				return rc, fmt.Errorf("%s must be a whole number of at least 0 (0 keeps everything), not %q", v.env, s)
			}
			*v.dst = n
		}
	}
	return rc, nil
}

// policy turns the configuration into cut-off times at now.
func (rc retentionConfig) policy(now time.Time) storage.Retention {
	var p storage.Retention
	if rc.ContactDays > 0 {
		p.ContactsBefore = now.AddDate(0, 0, -rc.ContactDays)
	}
	if rc.CommentsMonths > 0 {
		p.CommentsBefore = now.AddDate(0, -rc.CommentsMonths, 0)
	}
	return p
}

// applyRetention runs one pass and records it in the audit log (counts
// only). It also drops login-throttle rows nobody needs any more.
func applyRetention(ctx context.Context, st *storage.Store, rc retentionConfig, now time.Time) (storage.RetentionResult, error) {
	res, err := st.ApplyRetention(ctx, rc.policy(now))
	if err != nil {
		return res, err
	}
	if res.Contacts > 0 || res.Comments > 0 {
		st.Audit(ctx, "retention", "retention.apply", "", map[string]any{"contacts": res.Contacts, "comments": res.Comments,
			"contact_days": rc.ContactDays, "comments_months": rc.CommentsMonths})
	}
	if _, err := st.PruneThrottle(ctx, now, now.Add(-24*time.Hour)); err != nil {
		return res, err
	}
	return res, nil
}

// cmdRetention is `carevoice retention`.
func cmdRetention(args []string) error {
	fs := flag.NewFlagSet("retention", flag.ContinueOnError)
	c := dbFlags(fs)
	rc, err := retentionFromEnv()
	if err != nil {
		return err
	}
	fs.IntVar(&rc.ContactDays, "contact-days", rc.ContactDays, "delete contact details older than this many days; 0 keeps them (env CAREVOICE_RETAIN_CONTACT_DAYS)")
	fs.IntVar(&rc.CommentsMonths, "comments-months", rc.CommentsMonths, "delete comment text older than this many months; 0 keeps it (env CAREVOICE_RETAIN_COMMENTS_MONTHS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rc.ContactDays < 0 || rc.CommentsMonths < 0 {
		return fmt.Errorf("--contact-days and --comments-months must be 0 or more")
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: c.DB, DatabaseURL: c.DatabaseURL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := applyRetention(ctx, st, rc, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(cmdStdout, "deleted %d contact details and %d comment texts; counts in dashboards are kept\n", res.Contacts, res.Comments)
	return nil
}

// retentionEvery is how often serve applies the retention.
const retentionEvery = 6 * time.Hour

// startRetention checks the retention settings and applies them in the
// background while the server runs: shortly after start, then every six
// hours. A failed pass is logged and retried at the next tick.
func startRetention(ctx context.Context, st *storage.Store, log *slog.Logger) error {
	rc, err := retentionFromEnv()
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			res, err := applyRetention(ctx, st, rc, time.Now())
			if err != nil && ctx.Err() == nil {
				log.Error("retention", "err", err)
			} else if res.Contacts > 0 || res.Comments > 0 {
				log.Info("retention applied", "contacts", res.Contacts, "comments", res.Comments)
			}
			t.Reset(retentionEvery)
		}
	}()
	return nil
}
