package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3" (gorm's SQLite driver uses it too)
)

// ErrBackupPostgres is returned by Backup on PostgreSQL, whose own tools do
// the job better.
var ErrBackupPostgres = errors.New("storage: backup copies SQLite only; on PostgreSQL use pg_dump (see README, Backups and restore)")

// BackupInfo describes a finished backup.
type BackupInfo struct {
	Path      string
	Bytes     int64
	Responses int64
}

// Backup writes a consistent copy of the SQLite database to out while the
// server keeps running: VACUUM INTO reads one snapshot (WAL readers never
// block the writer, nor the writer them) and writes a compact file. The copy
// is made under a temporary name, checked, synced and then renamed, so out is
// either a whole, checked backup or absent; it is created 0600, as it holds
// every patient's answers.
func (s *Store) Backup(ctx context.Context, out string) (BackupInfo, error) {
	if s.dialect != "sqlite" {
		return BackupInfo{}, ErrBackupPostgres
	}
	src, err := s.sqliteFile(ctx)
	if err != nil {
		return BackupInfo{}, err
	}
	out, err = filepath.Abs(out)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %w", err)
	}
	if same, _ := sameFile(src, out); same {
		return BackupInfo{}, errors.New("storage: backup: the output is the database itself")
	}
	if _, err := os.Stat(out); err == nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %s already exists; choose a new name", out)
	}
	tmp := out + ".partial"
	os.Remove(tmp)
	// VACUUM INTO accepts an empty existing file; making it ourselves fixes
	// its mode before a single page is written.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %w", err)
	}
	f.Close()
	defer os.Remove(tmp) // no-op once renamed

	// A connection of its own: the store's write connection belongs to the
	// group writer, and its readers are query-only.
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: src}).EscapedPath()+"?_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %w", err)
	}
	info, err := checkBackup(ctx, tmp)
	if err != nil {
		return BackupInfo{}, err
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return BackupInfo{}, fmt.Errorf("storage: backup: %w", err)
	}
	syncFile(filepath.Dir(out)) // make the rename itself durable; best effort
	info.Path = out
	return info, nil
}

// checkBackup opens the copy read-only and runs SQLite's own check.
func checkBackup(ctx context.Context, path string) (BackupInfo, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("storage: check backup: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return BackupInfo{}, fmt.Errorf("storage: check backup: %w", err)
	}
	if res != "ok" {
		return BackupInfo{}, fmt.Errorf("storage: check backup: quick_check says %q", res)
	}
	var info BackupInfo
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM responses").Scan(&info.Responses); err != nil {
		return BackupInfo{}, fmt.Errorf("storage: check backup: %w", err)
	}
	if st, err := os.Stat(path); err == nil {
		info.Bytes = st.Size()
	}
	return info, nil
}

// IntegrityCheck runs PRAGMA integrity_check on SQLite ("ok" when sound);
// PostgreSQL has no equivalent and reports "ok".
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.dialect != "sqlite" {
		return "ok", nil
	}
	var res string
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return "", fmt.Errorf("storage: integrity check: %w", err)
	}
	return res, nil
}

// sqliteFile is the absolute path of the main database file.
func (s *Store) sqliteFile(ctx context.Context) (string, error) {
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", fmt.Errorf("storage: backup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", fmt.Errorf("storage: backup: %w", err)
		}
		if name == "main" && file != "" {
			return file, nil
		}
	}
	return "", errors.New("storage: backup: the database has no file")
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: backup: sync: %w", err)
	}
	return nil
}
