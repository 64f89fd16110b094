package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

func TestIsUnavailable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", ErrNotFound, false},
		{"invalid", fmt.Errorf("storage: x: %w", ErrInvalid), false},
		{"cancelled by the client", fmt.Errorf("q: %w", context.Canceled), false},
		{"bad connection", fmt.Errorf("q: %w", driver.ErrBadConn), true},
		{"closed store", ErrClosed, true},
		{"connection cut", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"postgres shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"postgres disk full", &pgconn.PgError{Code: "53100"}, true},
		{"postgres unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"postgres syntax", &pgconn.PgError{Code: "42601"}, false},
		{"sqlite disk full", sqlite3.Error{Code: sqlite3.ErrFull}, true},
		{"sqlite I/O", fmt.Errorf("commit: %w", sqlite3.Error{Code: sqlite3.ErrIoErr}), true},
		{"sqlite constraint", sqlite3.Error{Code: sqlite3.ErrConstraint}, false},
		{"plain", errors.New("something else"), false},
	} {
		if got := IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
