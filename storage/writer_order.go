package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// The batch order lock keeps responses.seq a safe cursor (ResponsesPage,
// CommentsPage, the exports) when several instances write to one
// PostgreSQL database.
//
// seq comes from a sequence when a row is inserted, not when it commits.
// Without the lock instance A could take seq 100, instance B 101 and commit
// first, a reader page through 101, and A's row then appear below the
// reader's cursor, never to be read. (Within one process a single group
// writer commits one batch at a time, which is why SQLite, one process with
// one write connection, needs nothing more.)
//
// Every group writer holds the lock in shared mode from the start of a
// batch, before its first seq, to its commit, so writers of all instances
// still run side by side. A cursor read takes it exclusively for its one
// query (cursorQuery): it waits until every batch that may hold a seq has
// committed or rolled back (PostgreSQL makes a commit visible before it
// releases the transaction's locks), and batches that begin meanwhile wait
// for the read, so at its snapshot no row below one it can see is still to
// come. A read costs the writers one short pause instead of every batch
// waiting for the other instance's (an exclusive writer lock measured ~14 %
// fewer submissions/s with two instances: BENCHMARKS.md).
//
// The key includes the schema, as advisory locks are per database: clinics
// (or tests) in different schemas of one database do not wait for each
// other.
const (
	batchOrderShared    = "SELECT pg_advisory_xact_lock_shared(727275, hashtext(current_schema()))"
	batchOrderExclusive = "SELECT pg_advisory_xact_lock(727275, hashtext(current_schema()))"
)

// beginBatch begins a group commit's transaction, on PostgreSQL under the
// batch order lock (shared).
func (w *groupWriter) beginBatch(ctx context.Context) (*sql.Tx, error) {
	tx, err := w.s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("storage: begin batch: %w", err)
	}
	if w.s.dialect == "postgres" {
		if _, err := tx.ExecContext(ctx, batchOrderShared); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("storage: batch order lock: %w", err)
		}
	}
	return tx, nil
}

// cursorQuery runs a query whose result hands out a seq cursor. On
// PostgreSQL it runs in a read-only transaction that first takes the batch
// order lock exclusively; done, called once the rows are read, closes them,
// ends the transaction and lets the writers go on. SQLite queries its read
// pool directly.
func (s *Store) cursorQuery(ctx context.Context, q string, args ...any) (rows *sql.Rows, done func(), err error) {
	return s.readRows(ctx, batchOrderExclusive, q, args...)
}
