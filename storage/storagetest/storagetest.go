// Package storagetest opens real databases for tests: a fresh SQLite file,
// and, when CAREVOICE_TEST_POSTGRES is set, a fresh schema in that
// PostgreSQL database. There are no mocks of the database.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the driver gorm.io/driver/postgres uses

	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
)

// EnvPostgres names the variable that points tests at a PostgreSQL server.
const EnvPostgres = "CAREVOICE_TEST_POSTGRES"

// CommitDelay is the group writer's linger in test stores: serve's default,
// so that tests send their concurrent submissions down the same path.
const CommitDelay = 2 * time.Millisecond

// Quiet is a logger for tests.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// SQLite opens a migrated, seeded store on a new file in a temp dir.
func SQLite(tb testing.TB) *storage.Store {
	tb.Helper()
	return open(tb, storage.Config{SQLitePath: filepath.Join(tb.TempDir(), "carevoice.db"), Logger: Quiet})
}

// SQLiteCopy opens a migrated store on a copy, in a temp dir, of the SQLite
// file src (a benchmark's database of a given size).
func SQLiteCopy(tb testing.TB, src string) *storage.Store {
	tb.Helper()
	dst := filepath.Join(tb.TempDir(), "carevoice.db")
	in, err := os.Open(src)
	if err != nil {
		tb.Fatalf("open %s: %v", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
	return open(tb, storage.Config{SQLitePath: dst, Logger: Quiet})
}

// PostgresURL returns a URL to a fresh, empty schema that is dropped when the
// test ends, or skips the test when no PostgreSQL is configured.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skipf("PostgreSQL tests skipped: set %s=postgres://… to run them (CI does)", EnvPostgres)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		tb.Fatalf("postgres: create schema: %v", err)
	}
	tb.Cleanup(func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("postgres url: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a migrated, seeded store on a fresh schema (or skips).
func Postgres(tb testing.TB) *storage.Store {
	tb.Helper()
	return open(tb, storage.Config{DatabaseURL: PostgresURL(tb), Logger: Quiet})
}

func open(tb testing.TB, cfg storage.Config) *storage.Store {
	tb.Helper()
	cfg.CommitDelay = CommitDelay
	s, err := storage.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Seed(context.Background(), "UTC"); err != nil {
		tb.Fatalf("seed: %v", err)
	}
	return s
}

// Each runs f against SQLite and, when configured, PostgreSQL.
func Each(t *testing.T, f func(t *testing.T, s *storage.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// CreateUser makes a staff account with a cheap password hash (tests need
// speed, not bcrypt's full cost) and returns its password.
func CreateUser(tb testing.TB, st *storage.Store, email, role string, sites ...string) string {
	tb.Helper()
	pw := "correct horse battery staple " + role
	hash, err := secure.HashPasswordCost(pw, 4)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), &storage.User{Email: email, PasswordHash: hash, Role: role, Sites: strings.Join(sites, ",")}); err != nil {
		tb.Fatal(err)
	}
	return pw
}
