package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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

// insertResponse runs inside the writer's transaction (and savepoint).
func (w *groupWriter) insertResponse(ctx context.Context, tx *sql.Tx, r *NewResponse) (Receipt, error) {
	var seq int64
	err := tx.StmtContext(ctx, w.insResp).QueryRowContext(ctx,
		r.ID, r.Survey, r.SurveyVersion, r.Site, r.Department, r.Provider, r.Channel, r.Lang,
		ms(r.SubmittedAt), r.LocalDay, r.Fingerprint, nullInt(r.FFT), nullInt(r.NPS), boolInt(r.WantsContact), r.DeviceID,
	).Scan(&seq)
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
	ins := tx.StmtContext(ctx, w.insAnswer)
	insTheme := tx.StmtContext(ctx, w.insTheme)
	for _, a := range r.Answers {
		var choices, sentiment, themes, version any
		var score any
		if a.Choices != nil {
			b, _ := json.Marshal(a.Choices)
			choices = string(b)
		}
		if a.Analysis != nil {
			sentiment, score, version = a.Analysis.Sentiment, a.Analysis.Score, a.Analysis.Version
			b, _ := json.Marshal(a.Analysis.Themes)
			themes = string(b)
		}
		if _, err := ins.ExecContext(ctx, seq, a.Question, a.Position, a.Type, a.Intent,
			nullInt(a.Num), nullString(a.Text), choices, sentiment, score, themes, version); err != nil {
			return Receipt{}, fmt.Errorf("storage: insert answer: %w", err)
		}
		if a.Analysis != nil {
			seen := map[string]bool{}
			for _, h := range a.Analysis.Themes {
				if seen[h.ID] {
					continue
				}
				seen[h.ID] = true
				if _, err := insTheme.ExecContext(ctx, seq, a.Question, h.ID, h.Polarity); err != nil {
					return Receipt{}, fmt.Errorf("storage: insert theme: %w", err)
				}
			}
		}
	}
	if r.Contact != nil {
		if _, err := tx.StmtContext(ctx, w.insContact).ExecContext(ctx, seq, r.Contact, ms(r.SubmittedAt)); err != nil {
			return Receipt{}, fmt.Errorf("storage: insert contact: %w", err)
		}
	}
	if r.Case != nil {
		if err := insertCase(ctx, tx, seq, r); err != nil {
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
