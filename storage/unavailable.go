package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// IsUnavailable reports whether err says that the database could not be
// used at all (unreachable, connection lost, shutting down, out of disk or
// failing it) rather than that a request was wrong: the request may well
// succeed if sent again later, so the API answers 503 with Retry-After and
// a kiosk keeps the answers queued instead of taking a 500 for a bug.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) >= 2 {
		switch pe.Code[:2] {
		case "08", // connection exception
			"53", // insufficient resources (disk full, too many connections)
			"57": // operator intervention (shutdown, crash recovery)
			return true
		}
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCantOpen, sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return true
		}
	}
	return false
}
