package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/carevoice/carevoice/loadtest"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// urlList is a repeatable --url flag.
type urlList []string

func (u *urlList) String() string     { return strings.Join(*u, ",") }
func (u *urlList) Set(v string) error { *u = append(*u, v); return nil }

func cmdLoadtest(args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var urls urlList
	fs.Var(&urls, "url", "server base URL, e.g. http://127.0.0.1:8080; repeat for several instances (round-robin)")
	duration := fs.Duration("duration", 10*time.Second, "how long to submit")
	conc := fs.Int("concurrency", 64, "clients submitting at once")
	token := fs.String("token", os.Getenv("CAREVOICE_TOKEN"), "admin bearer token: exempt from rate limits, reads responses back (env CAREVOICE_TOKEN)")
	db := fs.String("db", "", "verify in this database directly (SQLite file or postgres://… URL) instead of through the API")
	retry := fs.Int("retry-every", 50, "resend every Nth acknowledged submission unchanged to test idempotency (negative: never)")
	public := fs.Bool("public", false, "submit without credentials, as patients do (run the server with CAREVOICE_RATE_LIMIT_IP=off)")
	ceiling := fs.Duration("ceiling", 0, "first measure GET /healthz for this long at the same concurrency and report its rate on stderr")
	verbose := fs.Bool("v", false, "report progress and unexpected answers on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(urls) == 0 {
		return errors.New("loadtest: --url is required")
	}
	if *token == "" && *db == "" {
		return errors.New("loadtest: give --token (an admin API token, see POST /api/v1/tokens) or --db (the server's database: a token is made there)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logw := io.Discard
	if *verbose {
		logw = os.Stderr
	}
	var st *storage.Store
	if *db != "" {
		var err error
		if st, err = openForVerify(ctx, *db); err != nil {
			return err
		}
		defer st.Close()
		if *token == "" {
			// Whoever can open the database is the operator: mint a
			// short-lived admin token rather than make them click one.
			if *token, err = mintToken(ctx, st, 2*time.Hour); err != nil {
				return err
			}
		}
	}
	cfg := loadtest.Config{URLs: urls, Duration: *duration, Concurrency: *conc, Token: *token, RetryEvery: *retry, Log: logw, Public: *public}
	if *ceiling > 0 {
		c, err := loadtest.Ceiling(ctx, cfg, *ceiling)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "{\"endpoint\":\"/healthz\",\"requests\":%d,\"rps\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"errors\":%d}\n",
			c.Sent, c.RPS, c.P50, c.P99, c.Errors)
	}
	rep, err := loadtest.Drive(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "loadtest: %d acknowledged in %s; verifying\n", len(rep.Acked), rep.Elapsed.Round(time.Millisecond))
	var v loadtest.Verification
	if st != nil {
		if v, err = loadtest.VerifyDB(context.Background(), st, rep.Acked); err != nil {
			return err
		}
	} else if v, err = loadtest.VerifyAPI(context.Background(), cfg, rep.Acked); err != nil {
		return err
	}
	res := rep.Result(v.Stored, v.Lost, v.Duplicates)
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if res.Lost > 0 || res.Duplicates > 0 {
		return fmt.Errorf("loadtest: %d acknowledged responses lost, %d duplicates (first lost: %s)",
			res.Lost, res.Duplicates, strings.Join(v.Missing, " "))
	}
	return nil
}

func openForVerify(ctx context.Context, db string) (*storage.Store, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := storage.Config{SQLitePath: db, Logger: quiet}
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		cfg = storage.Config{DatabaseURL: db, Logger: quiet}
	} else if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("loadtest: --db: %w", err)
	}
	return storage.Open(ctx, cfg)
}

// mintToken creates an admin API token directly in the database and records
// it in the audit log.
func mintToken(ctx context.Context, st *storage.Store, ttl time.Duration) (string, error) {
	tok, hash := secure.NewToken("cvt_")
	if err := st.CreateAPIToken(ctx, &storage.APIToken{Name: "loadtest", TokenHash: hash, Role: storage.RoleAdmin,
		ExpiresAt: time.Now().Add(ttl).UnixMilli()}); err != nil {
		return "", fmt.Errorf("loadtest: create token: %w", err)
	}
	st.Audit(ctx, "cli", "token.create", "loadtest", map[string]string{"role": storage.RoleAdmin})
	return tok, nil
}
