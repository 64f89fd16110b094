package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/demo"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

type demoOptions struct {
	Responses, Months int
}

func fillDemo(ctx context.Context, st *storage.Store, an *analytics.Analyzer, keys *secure.Keyring, o demoOptions, progress io.Writer) error {
	if err := demo.Fill(ctx, st, an, keys, demo.Options{Responses: o.Responses, Months: o.Months}, progress); err != nil {
		return err
	}
	fmt.Fprintf(progress, "demo: %d responses over %d months at sites north, central and south\n", o.Responses, o.Months)
	return demo.FillCases(ctx, st, an, keys, time.Now(), progress) // follow-up cases (issue 8)
}

// demoAccounts are made by `serve --demo` on an empty database, so that a
// new user can see what each role sees.
var demoAccounts = []account{
	{Email: "manager@localhost", Role: storage.RoleManager, Sites: "north,central"},
	{Email: "quality@localhost", Role: storage.RoleQuality},
}

// createDemoAccounts makes the demo accounts with generated passwords.
func createDemoAccounts(ctx context.Context, st *storage.Store) ([]account, error) {
	out := make([]account, 0, len(demoAccounts))
	for _, a := range demoAccounts {
		a.Password = newPassword()
		if err := createAccount(ctx, st, a.Email, a.Role, a.Sites, a.Password); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", a.Email, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func cmdDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	c := dbFlags(fs)
	n := fs.Int("responses", 20000, "number of responses")
	months := fs.Int("months", 12, "months of history")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *n < 1 || *months < 1 {
		return fmt.Errorf("--responses and --months must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := newLogger()
	keys, err := secure.LoadOrCreateKey(c.dataDir(), c.SecretKey)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()
	an, err := analytics.New()
	if err != nil {
		return err
	}
	return fillDemo(ctx, st, an, keys, demoOptions{*n, *months}, os.Stderr)
}
