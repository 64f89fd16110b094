package storage

import (
	"context"
	"database/sql"
	"net/url"
	"sync/atomic"
	"time"
)

// checkpointer copies the SQLite WAL back into the database file from a
// connection of its own. Left to itself, SQLite checkpoints inside the
// commit that crosses 1000 WAL pages, so every few batches one patient
// group waits for a database-file write and fsync on top of its own. A
// PASSIVE checkpoint never blocks the writer, and durability is unchanged:
// a commit is durable once its WAL frames are synced (synchronous=FULL).
//
// Under a steady load a background checkpoint never quite catches up (a
// commit always lands while it copies), and the WAL only restarts from its
// beginning after a checkpoint that caught up. So once the WAL is long the
// checkpointer raises a flag and the writer, between two batches, runs one
// short checkpoint itself: the background one has already copied nearly
// everything, and the next commit starts the WAL over.
type checkpointer struct {
	stop chan struct{}
	done chan struct{}
	// catchUp asks the writer for a checkpoint between batches.
	catchUp atomic.Bool
}

// walRestartFrames is the WAL length (4 KiB pages) past which the writer is
// asked to let the WAL start over: 16 MiB.
const walRestartFrames = 4096

// startCheckpointer turns off the write connection's automatic checkpoints
// and checkpoints every interval instead. If it cannot start, SQLite's own
// automatic checkpoints stay on: slower, never unsafe.
func (s *Store) startCheckpointer(interval time.Duration) *checkpointer {
	ctx := context.Background()
	file, err := s.sqliteFile(ctx)
	if err != nil {
		s.log.Warn("checkpointer not started", "err", err)
		return nil
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: file}).EscapedPath()+"?_busy_timeout=10000")
	if err != nil {
		s.log.Warn("checkpointer not started", "err", err)
		return nil
	}
	db.SetMaxOpenConns(1)
	if _, err := s.wdb.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		db.Close()
		s.log.Warn("checkpointer not started", "err", err)
		return nil
	}
	c := &checkpointer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer db.Close()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				var busy, log, done int
				if err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
					s.log.Warn("wal checkpoint", "err", err)
					continue
				}
				if log > walRestartFrames {
					c.catchUp.Store(true)
				}
			}
		}
	}()
	return c
}

// between runs in the writer goroutine, outside any transaction: when asked,
// it checkpoints on the write connection, which no commit can overtake.
func (c *checkpointer) between(s *Store) {
	if c == nil || !c.catchUp.Load() {
		return
	}
	c.catchUp.Store(false)
	if _, err := s.wdb.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		s.log.Warn("wal checkpoint", "err", err)
	}
}

func (c *checkpointer) close() {
	if c == nil {
		return
	}
	close(c.stop)
	<-c.done
}
