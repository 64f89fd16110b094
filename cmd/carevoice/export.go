package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"syscall"
	"time"

	"github.com/carevoice/carevoice/export"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// cmdExport implements `carevoice export` (SPEC "Commands"): the same file
// as the Export page and GET /api/v1/export.csv, written by export.Write.
func cmdExport(args []string) error {
	fset := flag.NewFlagSet("export", flag.ContinueOnError)
	fset.SetOutput(cmdStderr)
	c := dbFlags(fset)
	var o export.Options
	fset.StringVar(&o.Format, "format", export.FormatResponses, "responses (one row a response) or comments (one row a free-text answer)")
	fset.StringVar(&o.Filter.FromDay, "from", "", "first local date, YYYY-MM-DD (inclusive)")
	fset.StringVar(&o.Filter.ToDay, "to", "", "last local date, YYYY-MM-DD (inclusive)")
	fset.StringVar(&o.Filter.Site, "site", "", "only this site")
	fset.StringVar(&o.Filter.Department, "department", "", "only this department")
	fset.StringVar(&o.Filter.Provider, "provider", "", "only this provider")
	fset.StringVar(&o.Filter.Survey, "survey", "", "only this survey")
	fset.StringVar(&o.Filter.Channel, "channel", "", "only this channel: link, kiosk, invite or suggestion")
	fset.BoolVar(&o.Redact, "redact", false, "mask phone numbers, emails, dates and names in free text")
	fset.BoolVar(&o.BOM, "bom", false, "start with a UTF-8 byte-order mark (for Excel)")
	fset.BoolVar(&o.IncludeContact, "include-contact", false, "add patients' contact details (needs the secret key; audited)")
	outPath := fset.String("out", "-", "output file; - is stdout")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: carevoice export [--format responses|comments] [--from D] [--to D] [--site S] [--department D] [--provider P] [--survey S] [--channel C] [--out F] [--redact] [--bom] [--include-contact]")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("export: unexpected argument %q", fset.Arg(0))
	}
	if err := c.validate(); err != nil {
		return err
	}
	if !export.ValidFormat(o.Format) {
		return fmt.Errorf("export: --format must be responses or comments, not %q", o.Format)
	}
	if o.IncludeContact && o.Format != export.FormatResponses {
		return fmt.Errorf("export: --include-contact works with --format responses only")
	}
	for name, v := range map[string]string{"--from": o.Filter.FromDay, "--to": o.Filter.ToDay} {
		if _, err := time.Parse(time.DateOnly, v); v != "" && err != nil {
			return fmt.Errorf("export: %s must be a date like 2026-03-01, not %q", name, v)
		}
	}
	if o.Filter.FromDay != "" && o.Filter.ToDay != "" && o.Filter.ToDay < o.Filter.FromDay {
		return fmt.Errorf("export: --to is before --from")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if o.IncludeContact {
		// Open the existing key only: a fresh one would decrypt nothing.
		if c.SecretKey == "" {
			if _, err := os.Stat(filepath.Join(c.dataDir(), secure.KeyFileName)); errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("export: --include-contact needs the secret key, and %s has none (set CAREVOICE_SECRET_KEY or --db)", c.dataDir())
			}
		}
		keys, err := secure.LoadOrCreateKey(c.dataDir(), c.SecretKey)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		o.Keys = keys
	}
	st, err := openStore(ctx, c, newLogger())
	if err != nil {
		return err
	}
	defer st.Close()
	if o.Filter.Site != "" {
		if _, err := st.Site(ctx, o.Filter.Site); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("export: no site %q", o.Filter.Site)
		}
	}

	var out io.Writer = cmdStdout
	var file *os.File
	if *outPath != "-" && *outPath != "" {
		// Private from the first byte: the file holds patients' words.
		file, err = os.OpenFile(*outPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer file.Close()
		out = file
	}
	start := time.Now()
	res, err := export.Write(ctx, st, out, o)
	if err == nil && file != nil {
		err = file.Close()
	}
	detail := map[string]any{"format": o.Format, "filters": o.Filter.Map(), "rows": res.Rows, "via": "cli", "bom": o.BOM,
		"redact": o.Redact, "include_contact": o.IncludeContact, "complete": err == nil}
	if o.Redact {
		detail["masks"] = res.Masks.Map()
	}
	if o.IncludeContact {
		detail["contacts"], detail["contact_errors"] = res.Contacts, res.ContactErrors
	}
	if aerr := st.Audit(context.Background(), cliActor(), "export.csv", o.Format, detail); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		if file != nil {
			os.Remove(*outPath)
		}
		return fmt.Errorf("export: %w", err)
	}
	secs := time.Since(start).Seconds()
	fmt.Fprintf(cmdStderr, "export: %d rows (%s) in %.1fs, %.0f rows/s\n", res.Rows, o.Format, secs, float64(res.Rows)/max(secs, 1e-9))
	if o.Redact {
		m := res.Masks
		fmt.Fprintf(cmdStderr, "export: masked %d phone, %d email, %d date, %d name\n", m.Phone, m.Email, m.Date, m.Name)
	}
	return nil
}

// cliActor names the operator in the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}
