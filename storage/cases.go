package storage

import (
	"context"
	"database/sql"
	"errors"
)

// NewCase is a follow-up case opened with a response.
type NewCase struct {
	Urgent bool
	Reason string
	DueAt  int64 // Unix ms
}

// insertCase runs inside the submission's transaction.
func insertCase(ctx context.Context, tx *sql.Tx, seq int64, r *NewResponse) error {
	return errors.New("storage: cases are not built yet")
}
