// Command carevoice is the whole of CareVoice: the server and its tools.
// main wires the dependencies by hand; there is no global state.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "carevoice:", err)
		os.Exit(1)
	}
}

const usage = `usage: carevoice [command] [flags]

commands:
  serve [--demo]        run the server (the default)
  demo                  fill the database with realistic synthetic data
  analyze               tag comments from a CSV
  eval --data F         score the analyzer against a labelled CSV
  export                write the CSV export
  loadtest --url U      drive submissions at a running server and verify them
  backup --out F        consistent online copy of the SQLite database
  retag [--all]         re-analyze comments tagged by an older analyzer
  user add              create an account
  keys rotate|status    re-encrypt contact details under a new key
  retention             apply the retention of contact details and comments
  dashbench             build a million responses and time the dashboards
  version               print versions
Run "carevoice COMMAND -h" for a command's flags.`

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(args)
	case "demo":
		return cmdDemo(args)
	case "analyze":
		return cmdAnalyze(args)
	case "eval":
		return cmdEval(args)
	case "export":
		return cmdExport(args)
	case "loadtest":
		return cmdLoadtest(args)
	case "backup":
		return cmdBackup(args)
	case "retag":
		return cmdRetag(args)
	case "user":
		return cmdUser(args)
	case "version":
		return cmdVersion(args)
	case "dashbench":
		return cmdDashbench(args) // seedbench.go: builds a million responses, times the dashboards
	case "keys":
		return cmdKeys(args) // keys.go
	case "retention":
		return cmdRetention(args) // retention.go
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

// config is the configuration shared by the commands that open the database.
// Flags override environment variables, which override defaults.
type config struct {
	Addr        string
	DB          string
	DatabaseURL string
	TZ          string
	MinCell     int
	SecretKey   string
	AdminEmail  string
	AdminPass   string
	BaseURL     string
	KioskIdle   time.Duration
	LocalesDir  string
	TLSCert     string
	TLSKey      string
	CommitDelay time.Duration
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

// dbFlags registers the configuration flags on fs with env defaults.
func dbFlags(fs *flag.FlagSet) *config {
	c := &config{}
	fs.StringVar(&c.DB, "db", envOr("CAREVOICE_DB", "./data/carevoice.db"), "SQLite file (env CAREVOICE_DB)")
	fs.StringVar(&c.DatabaseURL, "database-url", envOr("DATABASE_URL", ""), "postgres://… switches storage to PostgreSQL (env DATABASE_URL)")
	fs.StringVar(&c.TZ, "tz", envOr("CAREVOICE_TZ", "UTC"), "default time zone for sites without one (env CAREVOICE_TZ)")
	c.SecretKey = os.Getenv("CAREVOICE_SECRET_KEY")
	c.AdminEmail = envOr("CAREVOICE_ADMIN_EMAIL", "admin@localhost")
	c.AdminPass = os.Getenv("CAREVOICE_ADMIN_PASSWORD")
	c.BaseURL = os.Getenv("CAREVOICE_BASE_URL")
	c.LocalesDir = os.Getenv("CAREVOICE_LOCALES")
	c.MinCell = 10
	c.CommitDelay = 2 * time.Millisecond
	return c
}

func (c *config) validate() error {
	if _, err := time.LoadLocation(c.TZ); err != nil {
		return fmt.Errorf("--tz %q is not a time zone name such as Europe/London", c.TZ)
	}
	if v := os.Getenv("CAREVOICE_MIN_CELL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("CAREVOICE_MIN_CELL must be a whole number of at least 1, not %q", v)
		}
		c.MinCell = n
	}
	if v := os.Getenv("CAREVOICE_KIOSK_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("CAREVOICE_KIOSK_IDLE must be a duration such as 90s, not %q", v)
		}
		c.KioskIdle = d
	}
	if v := os.Getenv("CAREVOICE_COMMIT_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Second {
			return fmt.Errorf("CAREVOICE_COMMIT_DELAY must be a duration such as 2ms (0 turns it off), not %q", v)
		}
		c.CommitDelay = d
	}
	return nil
}

// dataDir is where the key file lives: beside the SQLite file.
func (c *config) dataDir() string { return filepath.Dir(c.DB) }

func newLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// openStore opens and seeds the database.
func openStore(ctx context.Context, c *config, log *slog.Logger) (*storage.Store, error) {
	st, err := storage.Open(ctx, storage.Config{SQLitePath: c.DB, DatabaseURL: c.DatabaseURL, Logger: log, CommitDelay: c.CommitDelay})
	if err != nil {
		return nil, err
	}
	if err := st.Seed(ctx, c.TZ); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// account is an account made at start-up; Password is set only when it was
// generated, so that it is printed once and never kept.
type account struct {
	Email, Role, Sites, Password string
}

// ensureAdmin creates the first admin when no account exists; it returns
// nil when there were accounts already.
func ensureAdmin(ctx context.Context, st *storage.Store, c *config) (*account, error) {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	pw := c.AdminPass
	generated := pw == ""
	if generated {
		pw = newPassword()
	} else if err := secure.CheckPasswordPolicy(pw, c.AdminEmail); err != nil {
		return nil, fmt.Errorf("CAREVOICE_ADMIN_PASSWORD: %w", err)
	}
	if err := createAccount(ctx, st, c.AdminEmail, storage.RoleAdmin, "", pw); err != nil {
		return nil, err
	}
	a := &account{Email: c.AdminEmail, Role: storage.RoleAdmin}
	if generated {
		a.Password = pw
	}
	return a, nil
}

func newPassword() string {
	tok, _ := secure.NewToken("")
	return tok[:24]
}

func createAccount(ctx context.Context, st *storage.Store, email, role, sites, pw string) error {
	hash, err := secure.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := st.CreateUser(ctx, &storage.User{Email: email, PasswordHash: hash, Role: role, Sites: sites}); err != nil {
		return err
	}
	st.Audit(ctx, "cli", "user.create", strings.ToLower(email), map[string]string{"role": role, "sites": sites})
	return nil
}

// printAccounts shows the accounts made at start-up, with their generated
// passwords, once, on stdout and never in the log.
func printAccounts(out io.Writer, accounts []account) {
	if len(accounts) == 0 {
		return
	}
	fmt.Fprintln(out, "\nAccounts created:")
	for _, a := range accounts {
		pw := a.Password
		if pw == "" {
			pw = "(the one you set)"
		}
		who := a.Role
		if a.Sites != "" {
			who += " of " + a.Sites
		}
		fmt.Fprintf(out, "  %-22s %-28s password: %s\n", a.Email, who, pw)
	}
	fmt.Fprintln(out, "These passwords are shown only once. Sign in at /login and keep them safe.")
	fmt.Fprintln(out)
}

func cmdServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := dbFlags(fs)
	fs.StringVar(&c.Addr, "addr", envOr("CAREVOICE_ADDR", ":8080"), "listen address (env CAREVOICE_ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", envOr("CAREVOICE_TLS_CERT", ""), "TLS certificate file")
	fs.StringVar(&c.TLSKey, "tls-key", envOr("CAREVOICE_TLS_KEY", ""), "TLS key file")
	demo := fs.Bool("demo", false, "fill an empty database with demo data first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	o := serveOptions{Log: newLogger(), Out: os.Stdout, Progress: os.Stderr}
	if *demo {
		o.Demo = &demoOptions{Responses: 20000, Months: 12}
	}
	return serve(ctx, c, o)
}

// tuneGC lets the heap grow to five times what is live between collections
// (GOGC=400) instead of twice, under a 1 GiB soft limit, unless GOGC or
// GOMEMLIMIT say otherwise. The server's live heap is small (tens of MB) and
// every submission allocates, so collections came often: under load they
// were ~10 % of the instructions spent per submission (callgrind,
// BENCHMARKS.md), and 400 gives back most of that.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// serveOptions are what cmdServe decides beyond the configuration; tests
// set Ready to learn the address and stop the server by cancelling ctx.
type serveOptions struct {
	Demo          *demoOptions // fill an empty database first
	Log           *slog.Logger
	Out, Progress io.Writer
	Ready         func(addr string)
}

// serve runs the server until ctx ends, then lets requests in flight finish
// and closes the database cleanly.
func serve(ctx context.Context, c *config, o serveOptions) error {
	log := o.Log
	startProfiler(log)
	tuneGC()
	keys, err := secure.LoadOrCreateKey(c.dataDir(), c.SecretKey)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()
	admin, err := ensureAdmin(ctx, st, c)
	if err != nil {
		return err
	}
	var accounts []account
	if admin != nil {
		accounts = append(accounts, *admin)
		if o.Demo != nil {
			// Only on an empty database: the demo accounts are for trying
			// CareVoice out, never added to one in use.
			more, err := createDemoAccounts(ctx, st)
			if err != nil {
				return err
			}
			accounts = append(accounts, more...)
		}
	}
	printAccounts(o.Out, accounts)
	an, err := analytics.New()
	if err != nil {
		return err
	}
	if o.Demo != nil {
		n, err := st.CountResponses(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			log.Info("filling the empty database with demo data")
			if err := fillDemo(ctx, st, an, keys, *o.Demo, o.Progress); err != nil {
				return err
			}
		}
	}
	limits, err := rateLimitsFromEnv() // ratelimit.go
	if err != nil {
		return err
	}
	srv, app, err := api.New(api.Deps{Store: st, Analyzer: an, Keys: keys, Logger: log, Config: api.Config{RateLimits: limits,
		BaseURL: c.BaseURL, MinCell: c.MinCell, KioskIdle: c.KioskIdle, LocalesDir: c.LocalesDir,
		SecureCookies: c.TLSCert != "", TrustedProxies: storage.SplitList(os.Getenv("CAREVOICE_TRUSTED_PROXIES")), KioskFrameAncestors: os.Getenv("CAREVOICE_KIOSK_FRAME_ANCESTORS"),
		MetricsToken: os.Getenv("CAREVOICE_METRICS_TOKEN"),
	}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS certificate: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	if err := startRetention(ctx, st, log); err != nil { // retention.go
		ln.Close()
		return err
	}
	stopAlerts, err := startAlerts(ctx, srv, st, c, log) // alerts.go
	if err != nil {
		ln.Close()
		return err
	}
	defer stopAlerts()
	errc := make(chan error, 1)
	go func() {
		log.Info("listening", "addr", ln.Addr().String(), "storage", st.Dialect())
		errc <- app.Listener(ln)
	}()
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	// In-flight requests finish (each waits for its commit), then the store
	// closes after the writer has committed its last batch.
	if err := app.ShutdownWithTimeout(30 * time.Second); err != nil {
		log.Error("shutdown", "err", err)
	}
	return nil
}

func cmdVersion(args []string) error { return printVersion(os.Stdout, args) }

// printVersion prints the versions of CareVoice, its analyzer and its
// database engine. The SQLite version is the library compiled in, so asking
// never creates a database; with DATABASE_URL it asks the PostgreSQL server.
func printVersion(out io.Writer, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	c := dbFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Fprintf(out, "carevoice %s\nanalyzer %s\n", version, analytics.Version)
	if c.DatabaseURL == "" {
		v, _, _ := sqlite3.Version()
		note := "ok"
		if err := storage.CheckSQLiteVersion(v); err != nil {
			note = "too old: CareVoice needs " + storage.MinSQLiteVersion + " or later"
		}
		fmt.Fprintf(out, "SQLite %s (%s)\n", v, note)
		return nil
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storage.Open(ctx, storage.Config{DatabaseURL: c.DatabaseURL, Logger: quiet})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(out, st.ServerVersion(ctx))
	return nil
}

func cmdUser(args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: carevoice user add --email E --role admin|manager|quality [--password P] [--sites a,b (managers: required)]")
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	c := dbFlags(fs)
	email := fs.String("email", "", "account email")
	role := fs.String("role", "", "admin, manager or quality")
	pw := fs.String("password", "", "password (generated and printed when absent)")
	sites := fs.String("sites", "", "comma-separated sites a manager may see (required for a manager)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || !storage.ValidRole(*role) {
		return errors.New("--email and --role (admin, manager or quality) are required")
	}
	list := storage.SplitList(*sites)
	switch err := storage.CheckRoleSites(*role, list); {
	case errors.Is(err, storage.ErrManagerWithoutSites):
		return errors.New("a manager needs --sites: the comma-separated sites they look after (for example --sites main)")
	case errors.Is(err, storage.ErrSitesNotForRole):
		return errors.New("--sites only goes with --role manager: admin and quality accounts see every site")
	}
	generated := *pw == ""
	if generated {
		*pw = newPassword()
	} else if err := secure.CheckPasswordPolicy(*pw, *email); err != nil {
		return fmt.Errorf("--password: %w", err)
	}
	ctx := context.Background()
	st, err := openStore(ctx, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, v := range list {
		if _, err := st.Site(ctx, v); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("--sites: there is no site %q (add it on the admin's Sites page first)", v)
		} else if err != nil {
			return err
		}
	}
	slices.Sort(list)
	hash, err := secure.HashPassword(*pw)
	if err != nil {
		return err
	}
	u := &storage.User{Email: *email, PasswordHash: hash, Role: *role, Sites: strings.Join(slices.Compact(list), ",")}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("an account for %s already exists", *email)
		}
		return err
	}
	st.Audit(ctx, "cli", "user.create", u.Email, map[string]string{"role": u.Role, "sites": u.Sites})
	fmt.Printf("created %s (%s)\n", u.Email, u.Role)
	if generated {
		fmt.Printf("password: %s\n(shown only once)\n", *pw)
	}
	return nil
}
