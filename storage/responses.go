package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carevoice/carevoice/analytics"
)

// NewResponse is a validated submission ready to store.
type NewResponse struct {
	ID            string
	Survey        string
	SurveyVersion int
	Site          string
	Department    string
	Provider      string
	Channel       string
	Lang          string
	SubmittedAt   time.Time
	LocalDay      string // YYYY-MM-DD in the site's time zone
	Fingerprint   string
	FFT           *int // the first rating5 answer, for the rollup
	NPS           *int // the first nps answer
	DeviceID      string
	// InvitationHash, when set, must name an unused, unexpired invitation
	// for this survey and site; it is marked used in the same transaction.
	InvitationHash string
	// Sealed contact details (encrypted by the caller), or nil.
	Contact      []byte
	WantsContact bool
	Answers      []NewAnswer
	// Case, when set, opens a follow-up case in the same transaction.
	Case *NewCase
}

// NewAnswer is one typed answer with, for text, its analysis.
type NewAnswer struct {
	Question string
	Position int
	Type     string
	Intent   string
	Num      *int
	Text     *string
	Choices  []string
	Analysis *analytics.Result
}

// Outcome says what a submission did.
type Outcome int

const (
	Created   Outcome = iota + 1 // stored for the first time
	Duplicate                    // identical retry of a stored response
	Conflict                     // same id, different content
)

// Receipt is the answer to a submission.
type Receipt struct {
	Outcome     Outcome
	ID          string
	Seq         int64
	SubmittedAt time.Time
}

// ErrInvitationUsed is returned for a used, expired or unknown invitation.
var ErrInvitationUsed = fmt.Errorf("invitation used or expired: %w", ErrGone)

// SubmitResponse stores a response through the group writer and returns
// once its transaction is durable. It returns ErrBusy when the queue is full.
func (s *Store) SubmitResponse(ctx context.Context, r *NewResponse) (Receipt, error) {
	return s.writer.submit(ctx, r)
}

// responseRows are a response's rows of responses, answers and
// comment_themes as the writer binds them. The submitting goroutine makes
// them: the writer is a single thread that every patient waits for, and
// encoding themes and choices as JSON and boxing the values was ~5 % of its
// time. The first value of each answer and theme row is the response's
// seq, which only its insert knows: setSeq fills it in.
type responseRows struct {
	response        []any // responseCols values
	answers, themes []any // answerCols, themeCols values a row
}

const responseCols, answerCols, themeCols = 15, 12, 4

func newResponseRows(r *NewResponse) *responseRows {
	out := &responseRows{response: []any{r.ID, r.Survey, r.SurveyVersion, r.Site, r.Department, r.Provider, r.Channel, r.Lang,
		ms(r.SubmittedAt), r.LocalDay, r.Fingerprint, nullInt(r.FFT), nullInt(r.NPS), boolInt(r.WantsContact), r.DeviceID}}
	for _, a := range r.Answers {
		var choices, sentiment, themesJSON, version, score any
		if a.Choices != nil {
			b, _ := json.Marshal(a.Choices)
			choices = string(b)
		}
		if a.Analysis != nil {
			sentiment, score, version = a.Analysis.Sentiment, a.Analysis.Score, a.Analysis.Version
			themesJSON = themesText(a.Analysis.Themes)
			for i, h := range a.Analysis.Themes {
				if firstTheme(a.Analysis.Themes, i) {
					out.themes = append(out.themes, nil, a.Question, h.ID, h.Polarity)
				}
			}
		}
		out.answers = append(out.answers, nil, a.Question, a.Position, a.Type, a.Intent,
			nullInt(a.Num), nullString(a.Text), choices, sentiment, score, themesJSON, version)
	}
	return out
}

func (rs *responseRows) setSeq(seq int64) {
	v := any(seq)
	for i := 0; i < len(rs.answers); i += answerCols {
		rs.answers[i] = v
	}
	for i := 0; i < len(rs.themes); i += themeCols {
		rs.themes[i] = v
	}
}

// insertResponse runs inside the writer's transaction (and savepoint).
func (w *groupWriter) insertResponse(ctx context.Context, tx *sql.Tx, r *NewResponse, rows *responseRows) (Receipt, error) {
	var seq int64
	err := tx.StmtContext(ctx, w.insResp).QueryRowContext(ctx, rows.response...).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		var fp string
		var at int64
		if err := tx.QueryRowContext(ctx, "SELECT seq, fingerprint, submitted_at FROM responses WHERE id = $1", r.ID).Scan(&seq, &fp, &at); err != nil {
			return Receipt{}, fmt.Errorf("storage: look up existing response: %w", err)
		}
		out := Conflict
		if fp == r.Fingerprint {
			out = Duplicate
		}
		return Receipt{Outcome: out, ID: r.ID, Seq: seq, SubmittedAt: time.UnixMilli(at)}, nil
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("storage: insert response: %w", err)
	}
	if r.InvitationHash != "" {
		res, err := tx.StmtContext(ctx, w.useInvite).ExecContext(ctx, ms(r.SubmittedAt), r.ID, r.InvitationHash, r.Survey, r.Site)
		if err != nil {
			return Receipt{}, fmt.Errorf("storage: use invitation: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Receipt{}, ErrInvitationUsed
		}
	}
	rows.setSeq(seq)
	ins := tx.StmtContext(ctx, w.insAnswer)
	for a := rows.answers; len(a) > 0; a = a[answerCols:] {
		if _, err := ins.ExecContext(ctx, a[:answerCols]...); err != nil {
			return Receipt{}, fmt.Errorf("storage: insert answer: %w", err)
		}
	}
	insTheme := tx.StmtContext(ctx, w.insTheme)
	for t := rows.themes; len(t) > 0; t = t[themeCols:] {
		if _, err := insTheme.ExecContext(ctx, t[:themeCols]...); err != nil {
			return Receipt{}, fmt.Errorf("storage: insert theme: %w", err)
		}
	}
	if r.Contact != nil {
		if _, err := tx.StmtContext(ctx, w.insContact).ExecContext(ctx, seq, r.Contact, ms(r.SubmittedAt)); err != nil {
			return Receipt{}, fmt.Errorf("storage: insert contact: %w", err)
		}
	}
	if r.Case != nil {
		if err := w.insertCase(ctx, tx, seq, r); err != nil {
			return Receipt{}, err
		}
	}
	return Receipt{Outcome: Created, ID: r.ID, Seq: seq, SubmittedAt: r.SubmittedAt}, nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

func nullString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CountResponses returns the number of stored responses.
func (s *Store) CountResponses(ctx context.Context) (int64, error) {
	var n int64
	if err := s.rdb.QueryRowContext(ctx, "SELECT COUNT(*) FROM responses").Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: count responses: %w", err)
	}
	return n, nil
}

// CountResponseIDs says how many stored responses carry each of ids (ids
// absent from the map have none). The load test uses it to prove that every
// acknowledged submission is stored exactly once.
func (s *Store) CountResponseIDs(ctx context.Context, ids []string) (map[string]int, error) {
	out := make(map[string]int, len(ids))
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		var q strings.Builder
		q.WriteString("SELECT id, COUNT(*) FROM responses WHERE id IN (")
		args := make([]any, len(part))
		for j, id := range part {
			if j > 0 {
				q.WriteByte(',')
			}
			q.WriteString("$" + strconv.Itoa(j+1))
			args[j] = id
		}
		q.WriteString(") GROUP BY id")
		rows, err := s.rdb.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("storage: count response ids: %w", err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("storage: count response ids: %w", err)
			}
			out[id] = n
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("storage: count response ids: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("storage: count response ids: %w", err)
		}
	}
	return out, nil
}

// multiInsert is an INSERT of many rows in one statement, prepared once per
// row count: a batch of a hundred answers costs one round through SQLite
// instead of a hundred.
type multiInsert struct {
	db         *sql.DB
	head, tail string
	cols       int
	anonymous  bool // SQLite: "?" placeholders
	mu         sync.Mutex
	stmts      map[int]*sql.Stmt
}

// multiRows bounds the rows of one statement: far below the parameter limits
// of SQLite (32766) and PostgreSQL (65535) at our widest row (15 columns).
const multiRows = 64

// newMultiInsert makes the inserts head VALUES (…),(…) tail. On SQLite
// (anonymous) the placeholders are "?": SQLite looks each "$N" up in a list
// of the names seen so far, so preparing the 320 statements of the writer
// took ~0.5 s at every start with them and is quadratic in a statement's
// size.
func newMultiInsert(db *sql.DB, anonymous bool, head string, cols int, tail string) *multiInsert {
	return &multiInsert{db: db, anonymous: anonymous, head: head, tail: tail, cols: cols, stmts: map[int]*sql.Stmt{}}
}

// prepare makes sure the statements that exec needs for rows rows exist. It
// runs outside any transaction: on SQLite the single write connection is
// the transaction's, and preparing on the pool would wait for it forever.
func (m *multiInsert) prepare(ctx context.Context, rows int) error {
	for _, n := range []int{min(rows, multiRows), rows % multiRows} {
		if n == 0 {
			continue
		}
		m.mu.Lock()
		st := m.stmts[n]
		m.mu.Unlock()
		if st != nil {
			continue
		}
		var q strings.Builder
		q.WriteString(m.head)
		writeValueRows(&q, n, m.cols, m.anonymous)
		q.WriteString(m.tail)
		st, err := m.db.PrepareContext(ctx, q.String())
		if err != nil {
			return fmt.Errorf("storage: prepare insert: %w", err)
		}
		m.mu.Lock()
		m.stmts[n] = st
		m.mu.Unlock()
	}
	return nil
}

// writeValueRows writes rows tuples of cols placeholders, "(…),(…)": "?"
// when anonymous (SQLite), else "$1" on.
func writeValueRows(b *strings.Builder, rows, cols int, anonymous bool) {
	for r := 0; r < rows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			if anonymous {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(r*cols + c + 1))
			}
		}
		b.WriteByte(')')
	}
}

func (m *multiInsert) stmt(ctx context.Context, tx *sql.Tx, rows int) (*sql.Stmt, error) {
	m.mu.Lock()
	st := m.stmts[rows]
	m.mu.Unlock()
	if st == nil {
		return nil, fmt.Errorf("storage: insert of %d rows was not prepared", rows)
	}
	return tx.StmtContext(ctx, st), nil
}

func (m *multiInsert) close() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, st := range m.stmts {
		st.Close()
	}
	m.stmts = map[int]*sql.Stmt{}
}

// exec inserts args (rows × cols values) in statements of at most multiRows rows.
func (m *multiInsert) exec(ctx context.Context, tx *sql.Tx, args []any) error {
	return m.query(ctx, tx, args, nil)
}

// query is exec for a statement with a RETURNING tail: scan sees each row
// returned.
func (m *multiInsert) query(ctx context.Context, tx *sql.Tx, args []any, scan func(*sql.Rows) error) error {
	per := multiRows * m.cols
	for len(args) > 0 {
		part := args[:min(per, len(args))]
		args = args[len(part):]
		st, err := m.stmt(ctx, tx, len(part)/m.cols)
		if err != nil {
			return err
		}
		if scan == nil {
			if _, err := st.ExecContext(ctx, part...); err != nil {
				return err
			}
			continue
		}
		rows, err := st.QueryContext(ctx, part...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// insertBatch is the fast path of a group commit: every response of the batch
// in a few multi-row statements. It returns the jobs it created and sets each
// job's receipt or error. A job refused for its own reason (a used
// invitation) is undone alone; an unexpected error fails the whole call,
// and the caller redoes the batch one savepoint at a time.
func (w *groupWriter) insertBatch(ctx context.Context, tx *sql.Tx, batch []*job) ([]*job, error) {
	seqs := make(map[string]int64, len(batch))
	args := make([]any, 0, min(len(batch), multiRows)*responseCols)
	for i := 0; i < len(batch); i += multiRows {
		part := batch[i:min(i+multiRows, len(batch))]
		args = args[:0]
		for _, j := range part {
			args = append(args, j.rows.response...)
		}
		st, err := w.multiResp.stmt(ctx, tx, len(part))
		if err != nil {
			return nil, fmt.Errorf("storage: insert responses: %w", err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("storage: insert responses: %w", err)
		}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return nil, fmt.Errorf("storage: insert responses: %w", err)
			}
			seqs[id] = seq
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("storage: insert responses: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("storage: insert responses: %w", err)
		}
	}
	created := make([]*job, 0, len(batch))
	lookup := tx.StmtContext(ctx, w.lookupResp)
	for _, j := range batch {
		r := j.r
		j.err = nil
		if seq, ok := seqs[r.ID]; ok {
			delete(seqs, r.ID) // a second job with this id in the batch is its retry
			if r.InvitationHash != "" {
				res, err := tx.StmtContext(ctx, w.useInvite).ExecContext(ctx, ms(r.SubmittedAt), r.ID, r.InvitationHash, r.Survey, r.Site)
				if err != nil {
					return nil, fmt.Errorf("storage: use invitation: %w", err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					// Nothing else of this response is written yet.
					if _, err := tx.StmtContext(ctx, w.delResp).ExecContext(ctx, seq); err != nil {
						return nil, fmt.Errorf("storage: undo response: %w", err)
					}
					j.rec, j.err = Receipt{}, ErrInvitationUsed
					continue
				}
			}
			j.rec = Receipt{Outcome: Created, ID: r.ID, Seq: seq, SubmittedAt: r.SubmittedAt}
			created = append(created, j)
			continue
		}
		var seq, at int64
		var fp string
		if err := lookup.QueryRowContext(ctx, r.ID).Scan(&seq, &fp, &at); err != nil {
			return nil, fmt.Errorf("storage: look up existing response: %w", err)
		}
		out := Conflict
		if fp == r.Fingerprint {
			out = Duplicate
		}
		j.rec = Receipt{Outcome: out, ID: r.ID, Seq: seq, SubmittedAt: time.UnixMilli(at)}
	}
	var answers, themes []any
	for _, j := range created {
		j.rows.setSeq(j.rec.Seq)
		answers = append(answers, j.rows.answers...)
		themes = append(themes, j.rows.themes...)
	}
	if err := w.multiAnswer.exec(ctx, tx, answers); err != nil {
		return nil, fmt.Errorf("storage: insert answers: %w", err)
	}
	if err := w.multiTheme.exec(ctx, tx, themes); err != nil {
		return nil, fmt.Errorf("storage: insert themes: %w", err)
	}
	var contacts, cases []any
	bySeq := map[int64]*NewResponse{}
	for _, j := range created {
		r := j.r
		if r.Contact != nil {
			contacts = append(contacts, j.rec.Seq, r.Contact, ms(r.SubmittedAt))
		}
		if c := r.Case; c != nil {
			now := ms(r.SubmittedAt)
			cases = append(cases, j.rec.Seq, r.ID, r.Site, "new", boolInt(c.Urgent), c.Reason, now, caseMonth(r), c.DueAt, now)
			bySeq[j.rec.Seq] = r
		}
	}
	if err := w.multiContact.exec(ctx, tx, contacts); err != nil {
		return nil, fmt.Errorf("storage: insert contacts: %w", err)
	}
	err := w.multiCase.query(ctx, tx, cases, func(rows *sql.Rows) error {
		var seq, id int64
		if err := rows.Scan(&seq, &id); err != nil {
			return err
		}
		if r := bySeq[seq]; r != nil {
			r.Case.ID = id
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: insert cases: %w", err)
	}
	return created, nil
}

// firstTheme reports whether themes[i] is the first hit of its theme (a
// theme is stored once per answer, with its first polarity).
func firstTheme(themes []analytics.ThemeHit, i int) bool {
	for k := 0; k < i; k++ {
		if themes[k].ID == themes[i].ID {
			return false
		}
	}
	return true
}

func themesText(t []analytics.ThemeHit) string {
	b, _ := json.Marshal(t)
	return string(b)
}
