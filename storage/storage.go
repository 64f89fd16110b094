// Package storage holds every SQL statement and GORM query of CareVoice.
// Handlers reach the database only through the plain methods of Store.
//
// SQLite (the embedded default) gets one write connection with immediate
// transactions and a separate pool of read connections; PostgreSQL shares one
// pool. The same versioned migrations run on both.
//
// Placeholders: raw SQL uses $1, $2, … (PostgreSQL's form, which SQLite also
// reads). mattn/go-sqlite3 binds arguments by position, and SQLite numbers
// $N parameters in order of first appearance, so $N must first appear in
// increasing order in the text ($1 … $2 … $3), though each may repeat.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// MinSQLiteVersion is the oldest SQLite we run on: earlier releases carry a
// WAL-mode corruption bug fixed in 3.51.3.
const MinSQLiteVersion = "3.51.3"

// Config says which database to open.
type Config struct {
	SQLitePath  string // used when DatabaseURL is empty
	DatabaseURL string // postgres://… switches to PostgreSQL
	ReadConns   int    // SQLite read pool size; default 2×GOMAXPROCS
	Logger      *slog.Logger
	// BatchMax bounds one group commit; QueueMax bounds waiting submissions.
	BatchMax, QueueMax int
	// CommitDelay is how long a busy group writer may wait to fill a batch
	// (writer.go, linger); zero never waits.
	CommitDelay time.Duration

	migrateUntil int // tests: apply migrations up to this version only (0: all)
}

// Store is the database of one CareVoice instance.
type Store struct {
	dialect string
	w, r    *gorm.DB // writes, reads (the same pool on PostgreSQL)
	wdb     *sql.DB
	rdb     *sql.DB
	log     *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time

	writer *groupWriter

	ratePruned atomic.Int64 // when rate_buckets was last pruned, Unix ns (ratelimit.go)
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// Open connects, checks the engine version and runs pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	s := &Store{log: cfg.Logger, Now: time.Now}
	gcfg := &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true, PrepareStmt: false}
	var err error
	if cfg.DatabaseURL != "" {
		s.dialect = "postgres"
		s.w, err = gorm.Open(postgres.Open(cfg.DatabaseURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("storage: open postgres: %w", err)
		}
		s.r = s.w
		if s.wdb, err = s.w.DB(); err != nil {
			return nil, fmt.Errorf("storage: postgres pool: %w", err)
		}
		s.wdb.SetMaxOpenConns(4 * runtime.GOMAXPROCS(0))
		s.wdb.SetMaxIdleConns(4 * runtime.GOMAXPROCS(0))
		s.rdb = s.wdb
	} else {
		s.dialect = "sqlite"
		if err := s.openSQLite(cfg, gcfg); err != nil {
			return nil, err
		}
	}
	if err := s.wdb.PingContext(ctx); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("storage: connect: %w", err)
	}
	if s.dialect == "sqlite" {
		v, err := s.SQLiteVersion(ctx)
		if err != nil {
			s.closeDBs()
			return nil, err
		}
		if err := CheckSQLiteVersion(v); err != nil {
			s.closeDBs()
			return nil, err
		}
	}
	if err := s.migrate(ctx, cfg.migrateUntil); err != nil {
		s.closeDBs()
		return nil, err
	}
	s.writer = newGroupWriter(s, cfg.BatchMax, cfg.QueueMax, cfg.CommitDelay)
	return s, nil
}

func (s *Store) openSQLite(cfg Config, gcfg *gorm.Config) error {
	path := cfg.SQLitePath
	if path == "" {
		path = "./data/carevoice.db"
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("storage: create data folder: %w", err)
		}
	}
	// Create the file ourselves so that it is private from the first byte;
	// SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("storage: create database file: %w", err)
	}
	f.Close()
	// _mutex=no: database/sql never lets two goroutines use one connection
	// at once, so SQLite's per-connection mutex only cost time (~2 % of the
	// group writer's instructions, callgrind).
	common := "_foreign_keys=on&_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_mutex=no"
	u := "file:" + (&url.URL{Path: path}).EscapedPath()
	// The writer's page cache (64 MiB) holds the hot part of the responses
	// id index at a million rows. Our forms and kiosks make time-ordered
	// ids (UUIDv7) that append to it, but API clients may send random UUIDs,
	// which touch a new page for nearly every insert; the default 2 MiB
	// would go to the OS each time.
	wdsn := u + "?" + common + "&_txlock=immediate&_cache_size=-65536"
	rdsn := u + "?" + common + "&_query_only=1"
	if s.w, err = gorm.Open(sqlite.Open(wdsn), gcfg); err != nil {
		return fmt.Errorf("storage: open sqlite: %w", err)
	}
	if s.wdb, err = s.w.DB(); err != nil {
		return fmt.Errorf("storage: sqlite pool: %w", err)
	}
	// SQLite allows one writer: one connection serialises writes without
	// SQLITE_BUSY, and the group writer batches to make that one cheap.
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	if s.r, err = gorm.Open(sqlite.Open(rdsn), gcfg); err != nil {
		s.wdb.Close()
		return fmt.Errorf("storage: open sqlite reader: %w", err)
	}
	if s.rdb, err = s.r.DB(); err != nil {
		s.wdb.Close()
		return fmt.Errorf("storage: sqlite read pool: %w", err)
	}
	n := cfg.ReadConns
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	s.rdb.SetMaxOpenConns(n)
	s.rdb.SetMaxIdleConns(n)
	return nil
}

func (s *Store) closeDBs() {
	if s.rdb != nil && s.rdb != s.wdb {
		s.rdb.Close()
	}
	if s.wdb != nil {
		s.wdb.Close()
	}
}

// Close stops the group writer after it has committed what it holds, then
// closes the connections (checkpointing the WAL on SQLite).
func (s *Store) Close() error {
	if s.writer != nil {
		s.writer.close()
	}
	if s.dialect == "sqlite" {
		// Best effort: leaves a compact file for backups and copies.
		s.wdb.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	}
	s.closeDBs()
	return nil
}

// Ping reports whether the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	if err := s.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}

// SQLiteVersion returns sqlite_version(), or "" on PostgreSQL.
func (s *Store) SQLiteVersion(ctx context.Context) (string, error) {
	if s.dialect != "sqlite" {
		return "", nil
	}
	var v string
	if err := s.rdb.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return "", fmt.Errorf("storage: sqlite version: %w", err)
	}
	return v, nil
}

// ServerVersion describes the database engine for `carevoice version`.
func (s *Store) ServerVersion(ctx context.Context) string {
	if s.dialect == "sqlite" {
		v, _ := s.SQLiteVersion(ctx)
		return "SQLite " + v
	}
	var v string
	s.rdb.QueryRowContext(ctx, "SHOW server_version").Scan(&v)
	return "PostgreSQL " + v
}

// CheckSQLiteVersion refuses an SQLite older than MinSQLiteVersion with a
// message that says what to do.
func CheckSQLiteVersion(v string) error {
	if VersionLess(v, MinSQLiteVersion) {
		return fmt.Errorf("storage: SQLite %s is too old: CareVoice needs %s or later (earlier versions can corrupt a WAL database); rebuild with github.com/mattn/go-sqlite3 v1.14.49 or later", v, MinSQLiteVersion)
	}
	return nil
}

// VersionLess compares dotted version numbers.
func VersionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := migrationFS.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range names {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("storage: migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, base, string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("storage: two migrations numbered %d", ms[i].version)
		}
	}
	return ms, nil
}

// dialectSQL fills the few type names that differ between the engines.
func (s *Store) dialectSQL(q string) string {
	r := map[string][2]string{
		"{{ID}}":   {"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"},
		"{{REAL}}": {"REAL", "DOUBLE PRECISION"},
		"{{BLOB}}": {"BLOB", "BYTEA"},
	}
	i := 0
	if s.dialect == "postgres" {
		i = 1
	}
	for k, v := range r {
		q = strings.ReplaceAll(q, k, v[i])
	}
	// A line starting "--sqlite: " or "--postgres: " is SQL for that engine
	// only (triggers differ); for the other engine it stays a comment.
	return strings.ReplaceAll(q, "--"+s.dialect+": ", "")
}

// splitStatements splits a migration at semicolons that end a line; our
// migrations keep statements that way, and not every driver runs several
// statements in one call.
func splitStatements(q string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(q, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}

// migrate applies pending migrations (up to version until, when it is not
// 0), each in its own transaction, and records them, so that starting twice
// changes nothing.
func (s *Store) migrate(ctx context.Context, until int) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	defer conn.Close()
	if s.dialect == "postgres" {
		// Two instances starting together must not both migrate.
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
			return fmt.Errorf("storage: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(727274)")
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.version] || until > 0 && m.version > until {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("storage: migration %s: %w", m.name, err)
		}
		for _, st := range splitStatements(s.dialectSQL(m.sql)) {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				tx.Rollback()
				return fmt.Errorf("storage: migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
			m.version, m.name, s.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("storage: migration %s: %w", m.name, err)
		}
		s.log.Info("applied migration", "migration", m.name)
	}
	return nil
}

// Migrations lists the recorded migration versions (for tests and `version`).
func (s *Store) Migrations(ctx context.Context) ([]int, error) {
	var vs []int
	err := s.r.WithContext(ctx).Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&vs).Error
	return vs, err
}

// Error kinds that handlers map to HTTP statuses (see api).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrGone     = errors.New("gone")
	ErrInvalid  = errors.New("invalid")
	ErrBusy     = errors.New("busy")
)

func ms(t time.Time) int64 { return t.UnixMilli() }
