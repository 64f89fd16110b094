package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/carevoice/carevoice/analytics"
)

// groupWriter gathers concurrent submissions and commits them together: one
// transaction and one fsync for many patients. Each submission runs in its own
// savepoint so that a bad one fails alone.
type groupWriter struct {
	s        *Store
	ch       chan *job
	batchMax int

	mu     sync.RWMutex
	closed bool
	done   chan struct{}

	delay     time.Duration // linger: how long a busy writer waits to fill a batch
	convoy    bool          // linger: stop at the last batch's size (SQLite)
	lastBatch int           // size of the last batch (the writer goroutine's own)

	rejected atomic.Int64  // submissions refused with ErrBusy
	accepted atomic.Int64  // submissions queued
	ckpt     *checkpointer // SQLite only (checkpoint.go)

	insResp, insAnswer, insTheme, insContact, useInvite, delResp, lookupResp, upDaily, upTheme, insCase *sql.Stmt
	// Multi-row inserts, prepared once per row count.
	multiResp, multiAnswer, multiTheme, multiContact, multiCase *multiInsert
	// The coarse rollups' upserts (stats_rollup.go), prepared between batches.
	coarse stmtCache

	// Observers for /metrics; set before the first submission.
	OnBatch func(size int, commit time.Duration)
}

type job struct {
	ctx  context.Context
	r    *NewResponse
	rows *responseRows
	rec  Receipt
	err  error
	done chan struct{}
}

func newGroupWriter(s *Store, batchMax, queueMax int, delay time.Duration) *groupWriter {
	if batchMax <= 0 {
		batchMax = 512
	}
	if queueMax <= 0 {
		queueMax = 8192
	}
	w := &groupWriter{s: s, ch: make(chan *job, queueMax), batchMax: batchMax, done: make(chan struct{}), delay: delay}
	if s.dialect == "sqlite" {
		w.convoy = true
		w.ckpt = s.startCheckpointer(250 * time.Millisecond)
	}
	go w.run()
	return w
}

// ErrClosed is returned for a submission that arrives after shutdown began.
var ErrClosed = errors.New("storage: closed")

func (w *groupWriter) submit(ctx context.Context, r *NewResponse) (Receipt, error) {
	j := &job{ctx: ctx, r: r, rows: newResponseRows(r), done: make(chan struct{})}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return Receipt{}, ErrClosed
	}
	select {
	case w.ch <- j:
		w.accepted.Add(1)
	default:
		w.mu.RUnlock()
		w.rejected.Add(1)
		return Receipt{}, ErrBusy
	}
	w.mu.RUnlock()
	// Once queued, a submission is always committed or failed by the
	// writer; we wait for it even if the client went away, so that what we
	// report (and log) is what happened.
	<-j.done
	return j.rec, j.err
}

// QueueDepth is the number of submissions waiting for the writer.
func (s *Store) QueueDepth() int { return len(s.writer.ch) }

// WriterStats describes the group writer for /metrics and /readyz.
type WriterStats struct {
	QueueDepth, QueueCap int
	Accepted             int64 // queued since start
	Rejected             int64 // refused with ErrBusy since start
	Closed               bool  // shutting down: no new submissions
}

// WriterStats reports the group writer's state.
func (s *Store) WriterStats() WriterStats {
	w := s.writer
	w.mu.RLock()
	closed := w.closed
	w.mu.RUnlock()
	return WriterStats{QueueDepth: len(w.ch), QueueCap: cap(w.ch), Accepted: w.accepted.Load(), Rejected: w.rejected.Load(), Closed: closed}
}

// SetBatchObserver registers a callback for each committed batch (metrics).
func (s *Store) SetBatchObserver(f func(size int, commit time.Duration)) { s.writer.OnBatch = f }

func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	<-w.done
	w.ckpt.close()
	w.closeStatements()
}

func (w *groupWriter) closeStatements() {
	w.coarse.close()
	for _, st := range []*sql.Stmt{w.insResp, w.insAnswer, w.insTheme, w.insContact, w.useInvite, w.delResp, w.lookupResp, w.upDaily, w.upTheme, w.insCase} {
		if st != nil {
			st.Close()
		}
	}
	for _, m := range w.multis() {
		m.close()
	}
}

// prepare prepares the writer's one-row statements (all that BenchLoad and
// the careful path need), then the multi-row ones.
func (w *groupWriter) prepare() error {
	if err := w.prepareOne(); err != nil {
		return err
	}
	return w.prepareMulti()
}

// prepareOne prepares the one-row statements.
func (w *groupWriter) prepareOne() error {
	db := w.s.wdb
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.Prepare(q)
		return st
	}
	w.insResp = p(`INSERT INTO responses (id, survey, survey_version, site, department, provider, channel, lang,
		submitted_at, local_day, fingerprint, fft, nps, wants_contact, device_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO NOTHING RETURNING seq`)
	w.insAnswer = p(`INSERT INTO answers (response_seq, question, position, qtype, intent, value_num, value_text,
		value_choices, sentiment, score, themes, analyzer_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
	w.insTheme = p(`INSERT INTO comment_themes (response_seq, question, theme, polarity) VALUES ($1, $2, $3, $4)`)
	w.insContact = p(`INSERT INTO contacts (response_seq, sealed, created_at) VALUES ($1, $2, $3)`)
	w.useInvite = p(`UPDATE invitations SET used_at = $1, response_id = $2
		WHERE token_hash = $3 AND survey = $4 AND site = $5 AND used_at IS NULL AND expires_at > $1`)
	w.delResp = p(`DELETE FROM responses WHERE seq = $1`)
	w.lookupResp = p(`SELECT seq, fingerprint, submitted_at FROM responses WHERE id = $1`)
	w.upDaily = p(upsertDaily)
	w.upTheme = p(upsertTheme)
	w.insCase = p(insertCaseSQL)
	if err != nil {
		return fmt.Errorf("storage: prepare writer statements: %w", err)
	}
	return nil
}

// prepareMulti prepares the multi-row inserts of the batch's fast path.
func (w *groupWriter) prepareMulti() error {
	db, anon := w.s.wdb, w.s.dialect == "sqlite"
	w.multiResp = newMultiInsert(db, anon, `INSERT INTO responses (id, survey, survey_version, site, department, provider, channel, lang,
		submitted_at, local_day, fingerprint, fft, nps, wants_contact, device_id) VALUES `, responseCols,
		` ON CONFLICT (id) DO NOTHING RETURNING id, seq`)
	w.multiAnswer = newMultiInsert(db, anon, `INSERT INTO answers (response_seq, question, position, qtype, intent, value_num, value_text,
		value_choices, sentiment, score, themes, analyzer_version) VALUES `, answerCols, ``)
	w.multiTheme = newMultiInsert(db, anon, `INSERT INTO comment_themes (response_seq, question, theme, polarity) VALUES `, themeCols, ``)
	w.multiContact = newMultiInsert(db, anon, `INSERT INTO contacts (response_seq, sealed, created_at) VALUES `, 3, ``)
	w.multiCase = newMultiInsert(db, anon, `INSERT INTO cases (response_seq, response_id, site, status, urgent, reasons,
		opened_at, opened_month, due_at, updated_at) VALUES `, 10, ` RETURNING response_seq, id`)
	// Every row count, now: inside a batch's transaction SQLite's single
	// write connection is busy, and preparing would wait for it forever.
	for n := 1; n <= multiRows; n++ {
		for _, m := range w.multis() {
			if err := m.prepare(context.Background(), n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *groupWriter) multis() []*multiInsert {
	return []*multiInsert{w.multiResp, w.multiAnswer, w.multiTheme, w.multiContact, w.multiCase}
}

func (w *groupWriter) run() {
	defer close(w.done)
	perr := w.prepare()
	for {
		j, ok := <-w.ch
		if !ok {
			return
		}
		batch := []*job{j}
	drain:
		for len(batch) < w.batchMax {
			select {
			case j, ok := <-w.ch:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		batch = w.linger(batch)
		if perr != nil {
			// Statements failed to prepare (e.g. the database vanished at
			// start); try again for this batch.
			perr = w.prepare()
		}
		if perr != nil {
			w.finish(batch, perr)
			continue
		}
		w.commit(batch)
		w.coarse.fill(w.s.wdb)
		w.ckpt.between(w.s)
	}
}

// linger lets a busy writer (the last batch was large) wait a little for
// more submissions, as PostgreSQL's commit_delay does: under load, patients
// whose answers were just acknowledged send the next ones within a
// millisecond or two, and a larger batch pays every fixed cost of a commit
// (rollup upserts, WAL frames of shared pages, the fsync) once for more
// submissions. It waits while submissions keep arriving, at most w.delay in
// all and a quarter of it after the last one; with light traffic nothing
// waits.
//
// On SQLite it also stops once the batch is as large as the last one. At a
// steady load the clients settle into convoys, each the size of a batch:
// one is being committed while the next is on its way back, and when as
// many submissions as the last batch held are here, its convoy has arrived.
// Waiting longer only holds them while the writer sits idle: timed inside
// the writer (64 clients, BENCHMARKS.md), it spent a third of its time
// lingering for the last stragglers, and stopping at the last batch's size
// gave two convoys of ~32 and a higher rate in every paired run. On
// PostgreSQL every statement of a batch is a round trip, so fewer, larger
// batches are worth the wait: there the same rule lost 5 % (paired runs).
func (w *groupWriter) linger(batch []*job) []*job {
	last := w.lastBatch
	defer func() { w.lastBatch = len(batch) }()
	enough := w.batchMax
	if w.convoy {
		enough = min(last, w.batchMax)
	}
	if w.delay <= 0 || last < lingerFrom || len(batch) >= enough {
		return batch
	}
	deadline := time.Now().Add(w.delay)
	gap := w.delay / 4
	t := time.NewTimer(gap)
	defer t.Stop()
	for len(batch) < enough {
		select {
		case j, ok := <-w.ch:
			if !ok {
				return batch
			}
			batch = append(batch, j)
			wait := min(gap, time.Until(deadline))
			if wait <= 0 {
				return batch
			}
			t.Reset(wait)
		case <-t.C:
			return batch
		}
	}
	return batch
}

// lingerFrom is the batch size from which the writer counts as busy.
const lingerFrom = 8

func (w *groupWriter) finish(batch []*job, err error) {
	for _, j := range batch {
		if err != nil {
			j.err = err
		}
		close(j.done)
	}
}

// commit stores a batch in one transaction. The fast path writes the whole
// batch with multi-row statements and no savepoints; if any submission fails
// in a way that left rows behind, the transaction is rolled back and the
// batch is redone one savepoint per submission, so that the failure stays
// with its own submission and every other one still commits.
func (w *groupWriter) commit(batch []*job) {
	start := time.Now()
	// The batch runs on its own context: a client that hangs up must not
	// abort the other patients' answers committed with it. PostgreSQL gets a
	// deadline against a connection that hangs. SQLite is a local file whose
	// lock waits end with its busy timeout, and go-sqlite3 runs every
	// statement on a new goroutine when the context can be cancelled.
	ctx := context.Background()
	if w.s.dialect != "sqlite" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	err := w.commitFast(ctx, batch)
	if errors.Is(err, errRedo) {
		err = w.commitCareful(ctx, batch)
	}
	if err != nil {
		for _, j := range batch {
			j.rec = Receipt{}
		}
		w.finish(batch, err)
		return
	}
	if w.OnBatch != nil {
		w.OnBatch(len(batch), time.Since(start))
	}
	w.finish(batch, nil)
}

// errRedo says the fast path gave up and the batch must be redone carefully.
var errRedo = errors.New("storage: redo batch with savepoints")

func (w *groupWriter) commitFast(ctx context.Context, batch []*job) error {
	tx, err := w.beginBatch(ctx) // writer_order.go: on PostgreSQL, under the batch order lock
	if err != nil {
		return err
	}
	created, err := w.insertBatch(ctx, tx, batch)
	if err != nil {
		tx.Rollback()
		if len(batch) > 1 {
			w.s.log.Warn("group commit: redoing a batch one submission at a time", "size", len(batch), "err", err)
			return errRedo
		}
		return err
	}
	agg := newRollupBatch()
	for _, j := range created {
		agg.add(j.r)
	}
	if err := w.flushRollup(ctx, tx, agg); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit batch: %w", err)
	}
	return nil
}

// commitCareful is the original one-savepoint-per-submission path.
func (w *groupWriter) commitCareful(ctx context.Context, batch []*job) error {
	tx, err := w.beginBatch(ctx) // writer_order.go: on PostgreSQL, under the batch order lock
	if err != nil {
		return err
	}
	agg := newRollupBatch()
	for _, j := range batch {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT sub"); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: savepoint: %w", err)
		}
		rec, err := w.insertResponse(ctx, tx, j.r, j.rows)
		if err != nil || rec.Outcome != Created {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sub"); rerr != nil {
				tx.Rollback()
				return fmt.Errorf("storage: rollback savepoint: %w", rerr)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT sub"); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: release savepoint: %w", err)
		}
		j.rec, j.err = rec, err
		if err == nil && rec.Outcome == Created {
			agg.add(j.r)
		}
	}
	if err := w.flushRollup(ctx, tx, agg); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit batch: %w", err)
	}
	return nil
}

// rollupBatch sums a batch's responses by rollup key so that each key is
// written once per batch, in a fixed order (no deadlocks between instances
// sharing a PostgreSQL database).
type rollupBatch struct {
	daily  map[rollupKey]*dailyCounts
	themes map[rollupKey]*themeCounts
}

type rollupKey struct{ Day, Site, Department, Provider, Survey, Channel string }

type dailyCounts struct {
	Responses                                    int64
	FFT                                          [6]int64
	Promoters, Passives, Detractors              int64
	Comments, Positive, Neutral, Negative, Mixed int64
}

func newRollupBatch() *rollupBatch {
	return &rollupBatch{daily: map[rollupKey]*dailyCounts{}, themes: map[rollupKey]*themeCounts{}}
}

func (b *rollupBatch) add(r *NewResponse) {
	k := rollupKey{r.LocalDay, r.Site, r.Department, r.Provider, r.Survey, r.Channel}
	c := b.daily[k]
	if c == nil {
		c = &dailyCounts{}
		b.daily[k] = c
	}
	c.Responses++
	if r.FFT != nil && *r.FFT >= 0 && *r.FFT <= 5 {
		c.FFT[*r.FFT]++
	}
	if r.NPS != nil {
		switch {
		case *r.NPS >= 9:
			c.Promoters++
		case *r.NPS >= 7:
			c.Passives++
		default:
			c.Detractors++
		}
	}
	for _, a := range r.Answers {
		if a.Analysis == nil {
			continue
		}
		c.Comments++
		switch a.Analysis.Sentiment {
		case "positive":
			c.Positive++
		case "negative":
			c.Negative++
		case "mixed":
			c.Mixed++
		default:
			c.Neutral++
		}
		b.addThemes(k, a.Analysis.Themes, 1)
	}
}

// addThemes adds d to the counters of key k for each theme of hits, once
// per theme (its first hit's polarity), as comment_themes keeps them.
func (b *rollupBatch) addThemes(k rollupKey, hits []analytics.ThemeHit, d int64) {
	var seen uint32 // a bit per theme id
	for _, h := range hits {
		i := themeCol(h.ID, h.Polarity)
		if i < 0 {
			continue // not a theme of SPEC.md: comment_themes keeps it, no dashboard shows it
		}
		bit := uint32(1) << (i / len(rollupPolarities))
		if seen&bit != 0 {
			continue
		}
		seen |= bit
		t := b.themes[k]
		if t == nil {
			t = &themeCounts{}
			b.themes[k] = t
		}
		t[i] += d
	}
}

func (k rollupKey) less(o rollupKey) bool {
	a := [6]string{k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel}
	b := [6]string{o.Day, o.Site, o.Department, o.Provider, o.Survey, o.Channel}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

const upsertDaily = `INSERT INTO rollup_daily (day, site, department, provider, survey, channel, responses,
	fft_0, fft_1, fft_2, fft_3, fft_4, fft_5, nps_promoters, nps_passives, nps_detractors,
	comments, positive, neutral, negative, mixed)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
	ON CONFLICT (day, site, department, provider, survey, channel) DO UPDATE SET
	responses = rollup_daily.responses + excluded.responses,
	fft_0 = rollup_daily.fft_0 + excluded.fft_0, fft_1 = rollup_daily.fft_1 + excluded.fft_1,
	fft_2 = rollup_daily.fft_2 + excluded.fft_2, fft_3 = rollup_daily.fft_3 + excluded.fft_3,
	fft_4 = rollup_daily.fft_4 + excluded.fft_4, fft_5 = rollup_daily.fft_5 + excluded.fft_5,
	nps_promoters = rollup_daily.nps_promoters + excluded.nps_promoters,
	nps_passives = rollup_daily.nps_passives + excluded.nps_passives,
	nps_detractors = rollup_daily.nps_detractors + excluded.nps_detractors,
	comments = rollup_daily.comments + excluded.comments,
	positive = rollup_daily.positive + excluded.positive, neutral = rollup_daily.neutral + excluded.neutral,
	negative = rollup_daily.negative + excluded.negative, mixed = rollup_daily.mixed + excluded.mixed`

// upsertTheme adds a key's theme counters (migration 0012) to the fine
// theme rollup.
var upsertTheme = newUpsert("rollup_themes", []string{"day", "site", "department", "provider", "survey", "channel"}, themeColumns).sql

// flush writes the sums with tx (for callers outside the group writer).
func (b *rollupBatch) flush(ctx context.Context, tx *sql.Tx) error {
	return b.write(ctx, tx, nil,
		func(args ...any) error { _, err := tx.ExecContext(ctx, upsertDaily, args...); return err },
		func(args ...any) error { _, err := tx.ExecContext(ctx, upsertTheme, args...); return err })
}

// flushRollup writes the sums with the writer's prepared statements.
func (w *groupWriter) flushRollup(ctx context.Context, tx *sql.Tx, b *rollupBatch) error {
	coarse, done := w.coarse.exec(ctx, tx)
	defer done()
	if w.s.dialect == "postgres" {
		// Each statement is a round trip to the server: send each table's
		// rows together.
		var buf upsertBuffer
		err := b.write(ctx, tx, buf.add,
			func(args ...any) error { return buf.add(upsertDaily, args...) },
			func(args ...any) error { return buf.add(upsertTheme, args...) })
		if err != nil {
			return err
		}
		if err := buf.flush(coarse); err != nil {
			return fmt.Errorf("storage: update rollups: %w", err)
		}
		return nil
	}
	daily, theme := tx.StmtContext(ctx, w.upDaily), tx.StmtContext(ctx, w.upTheme)
	return b.write(ctx, tx, coarse,
		func(args ...any) error { _, err := daily.ExecContext(ctx, args...); return err },
		func(args ...any) error { _, err := theme.ExecContext(ctx, args...); return err })
}

// upsertBuffer gathers a batch's rollup upserts, one-row statements as
// rollupBatch writes them, and sends each table's rows in multi-row
// statements. On PostgreSQL a batch of 64 submissions upserts ~300 rollup
// rows, and one statement each was one network round trip each. (On SQLite,
// where a statement is a function call, joining them saved nothing
// measurable: BENCHMARKS.md.) Rows keep their order (sorted keys: two
// instances lock rows in the same order) and are unique per table, as a
// multi-row upsert on PostgreSQL requires; row counts are powers of two so
// that few statements are prepared.
type upsertBuffer struct {
	order []string         // one-row statements in first-use order
	rows  map[string][]any // their arguments, row after row
	cols  map[string]int
}

func (u *upsertBuffer) add(q string, args ...any) error {
	if u.rows == nil {
		u.rows, u.cols = map[string][]any{}, map[string]int{}
	}
	if _, ok := u.rows[q]; !ok {
		u.order = append(u.order, q)
		u.cols[q] = len(args)
	} else if u.cols[q] != len(args) {
		return fmt.Errorf("storage: upsert with %d values, earlier %d", len(args), u.cols[q])
	}
	u.rows[q] = append(u.rows[q], args...)
	return nil
}

func (u *upsertBuffer) flush(exec func(q string, args ...any) error) error {
	for _, q := range u.order {
		args, cols := u.rows[q], u.cols[q]
		for n := len(args) / cols; n > 0; {
			k := 1
			for k*2 <= min(n, multiRows) {
				k *= 2
			}
			mq, err := multiRowSQL(q, k)
			if err != nil {
				return err
			}
			if err := exec(mq, args[:k*cols]...); err != nil {
				return err
			}
			args, n = args[k*cols:], n-k
		}
	}
	return nil
}

var multiRowCache sync.Map // multiRowKey -> string

type multiRowKey struct {
	q    string
	rows int
}

// multiRowSQL rewrites a one-row INSERT … VALUES ($1, …, $n) … statement
// into one of rows rows, numbering the placeholders on.
func multiRowSQL(q string, rows int) (string, error) {
	if rows == 1 {
		return q, nil
	}
	if v, ok := multiRowCache.Load(multiRowKey{q, rows}); ok {
		return v.(string), nil
	}
	i := strings.Index(q, "VALUES")
	if i < 0 {
		return "", fmt.Errorf("storage: not a one-row insert: %.40q", q)
	}
	open := strings.IndexByte(q[i:], '(')
	end := strings.IndexByte(q[i+max(open, 0):], ')')
	if open < 0 || end < 0 {
		return "", fmt.Errorf("storage: not a one-row insert: %.40q", q)
	}
	open, end = i+open, i+open+end
	cols := strings.Count(q[open:end], "$")
	var b strings.Builder
	b.WriteString(q[:open])
	writeValueRows(&b, rows, cols, false)
	b.WriteString(q[end+1:])
	multiRowCache.Store(multiRowKey{q, rows}, b.String())
	return b.String(), nil
}

// write writes the fine rollups with daily and theme, then the coarse ones
// with coarse (or, when it is nil, statements prepared for this call).
func (b *rollupBatch) write(ctx context.Context, tx *sql.Tx, coarse func(q string, args ...any) error, daily, theme func(args ...any) error) error {
	for _, k := range sortedKeys(b.daily, rollupKey.less) {
		c := b.daily[k]
		if err := daily(k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel,
			c.Responses, c.FFT[0], c.FFT[1], c.FFT[2], c.FFT[3], c.FFT[4], c.FFT[5],
			c.Promoters, c.Passives, c.Detractors, c.Comments, c.Positive, c.Neutral, c.Negative, c.Mixed); err != nil {
			return fmt.Errorf("storage: update daily rollup: %w", err)
		}
	}
	for _, k := range sortedKeys(b.themes, rollupKey.less) {
		if err := theme(themeArgs([]any{k.Day, k.Site, k.Department, k.Provider, k.Survey, k.Channel}, b.themes[k])...); err != nil {
			return fmt.Errorf("storage: update theme rollup: %w", err)
		}
	}
	if coarse == nil {
		return b.flushSites(ctx, tx) // stats_rollup.go: site-level rollups for the dashboards
	}
	return b.coarseUpserts(coarse)
}

// stmtCache keeps statements prepared on SQLite's single write connection.
// They can only be prepared outside a transaction (inside one, the
// connection is the transaction's), so a statement first met inside a batch
// is prepared on that transaction for the batch and noted; fill prepares the
// noted ones between batches. Preparing the coarse upserts anew for every
// batch cost ~6 % of the server's CPU under load.
type stmtCache struct {
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want map[string]bool
}

// exec returns an exec function for coarseUpserts that runs in tx.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx) (exec func(q string, args ...any) error, done func()) {
	var local []*sql.Stmt
	// Each statement is bound to tx once a batch, not once a row: binding
	// allocates and registers a new statement each time (~7 % of the
	// coarse upserts' CPU in pprof).
	bound := map[string]*sql.Stmt{}
	return func(q string, args ...any) error {
			st := bound[q]
			if st == nil {
				c.mu.Lock()
				st = c.m[q]
				if st == nil {
					if c.want == nil {
						c.want = map[string]bool{}
					}
					c.want[q] = true
				}
				c.mu.Unlock()
				if st != nil {
					st = tx.StmtContext(ctx, st)
				} else {
					var err error
					if st, err = tx.PrepareContext(ctx, q); err != nil {
						return err
					}
					local = append(local, st)
				}
				bound[q] = st
			}
			_, err := st.ExecContext(ctx, args...)
			return err
		}, func() {
			for _, st := range local {
				st.Close()
			}
		}
}

// fill prepares, outside any transaction, the statements noted by exec.
// A failure is not an error: the next batch prepares on its transaction.
func (c *stmtCache) fill(db *sql.DB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.want {
		st, err := db.Prepare(q)
		if err != nil {
			continue
		}
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[q] = st
		delete(c.want, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
