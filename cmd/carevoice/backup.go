package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/carevoice/carevoice/storage"
)

// cmdBackup copies the SQLite database while the server keeps running.
func cmdBackup(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	c := dbFlags(fs)
	out := fs.String("out", "", "backup file to create (must not exist yet)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out F is required")
	}
	if c.DatabaseURL != "" {
		return storage.ErrBackupPostgres
	}
	if _, err := os.Stat(c.DB); err != nil {
		return fmt.Errorf("backup: database %s: %w", c.DB, err)
	}
	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Config{SQLitePath: c.DB, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer st.Close()
	info, err := st.Backup(ctx, *out)
	if err != nil {
		return err
	}
	st.Audit(ctx, "cli", "backup", info.Path, map[string]string{"responses": fmt.Sprint(info.Responses)})
	fmt.Printf("backup written to %s (%d bytes, %d responses, quick_check ok)\n", info.Path, info.Bytes, info.Responses)
	return nil
}
