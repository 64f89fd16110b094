package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Retention says how long personal data is kept. A zero time keeps
// everything of that kind.
type Retention struct {
	ContactsBefore time.Time // delete contact details stored before this
	CommentsBefore time.Time // blank free-text answers submitted before this
}

// RetentionResult counts what a retention run removed.
type RetentionResult struct {
	Contacts int64 `json:"contacts"`
	Comments int64 `json:"comments"`
}

// retentionBatch bounds one transaction, so that a first run over years of
// data never holds SQLite's single writer long enough to stall submissions.
const retentionBatch = 500

// ApplyRetention deletes contact details and blanks comment text older than
// the policy allows. Rollups, scores, sentiment labels and theme ids stay:
// they are anonymous counts, and dashboards and trends keep working. The
// theme evidence phrases go with the text, since they are quotes from it.
func (s *Store) ApplyRetention(ctx context.Context, p Retention) (RetentionResult, error) {
	var res RetentionResult
	if !p.ContactsBefore.IsZero() {
		for {
			r := s.w.WithContext(ctx).Exec(`DELETE FROM contacts WHERE response_seq IN
				(SELECT response_seq FROM contacts WHERE created_at < ? ORDER BY response_seq LIMIT ?)`, ms(p.ContactsBefore), retentionBatch)
			if r.Error != nil {
				return res, fmt.Errorf("storage: retention contacts: %w", r.Error)
			}
			res.Contacts += r.RowsAffected
			if r.RowsAffected < retentionBatch {
				break
			}
		}
	}
	if !p.CommentsBefore.IsZero() {
		for {
			var seqs []int64
			if err := s.r.WithContext(ctx).Raw(`SELECT DISTINCT a.response_seq FROM answers a JOIN responses r ON r.seq = a.response_seq
				WHERE r.submitted_at < ? AND a.qtype = 'text' AND a.value_text IS NOT NULL ORDER BY a.response_seq LIMIT ?`,
				ms(p.CommentsBefore), retentionBatch).Scan(&seqs).Error; err != nil {
				return res, fmt.Errorf("storage: retention comments: %w", err)
			}
			if len(seqs) == 0 {
				break
			}
			r := s.w.WithContext(ctx).Exec(`UPDATE answers SET value_text = NULL, themes = NULL
				WHERE qtype = 'text' AND value_text IS NOT NULL AND response_seq IN ?`, seqs)
			if r.Error != nil {
				return res, fmt.Errorf("storage: retention comments: %w", r.Error)
			}
			res.Comments += r.RowsAffected
			if len(seqs) < retentionBatch {
				break
			}
		}
	}
	return res, nil
}

// DeleteResponse erases one response with its answers, themes and contact
// details (a patient's request). The rollups keep their anonymous counts:
// taking one response out of a day's totals would change published figures
// without saying why, and the counts identify nobody.
func (s *Store) DeleteResponse(ctx context.Context, id string) error {
	err := s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var seq int64
		if err := tx.Raw("SELECT seq FROM responses WHERE id = ?", id).Scan(&seq).Error; err != nil {
			return err
		}
		if seq == 0 {
			return ErrNotFound
		}
		// Children first, so this works whether or not a feature's table
		// was declared ON DELETE CASCADE.
		for _, q := range []string{
			"DELETE FROM comment_themes WHERE response_seq = ?",
			"DELETE FROM contacts WHERE response_seq = ?",
			"DELETE FROM answers WHERE response_seq = ?",
		} {
			if err := tx.Exec(q, seq).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("UPDATE invitations SET response_id = NULL WHERE response_id = ?", id).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM responses WHERE seq = ?", seq).Error
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("storage: delete response: %w", err)
	}
	return nil
}

// SealedContact is one row of encrypted contact details with the id of the
// response it is bound to (the associated data of its seal).
type SealedContact struct {
	Seq        int64
	ResponseID string
	Sealed     []byte
}

// ResealContacts walks every stored contact in batches and stores what f
// returns for it when f reports a change; it is the storage half of a key
// rotation, which stays free of cryptography here. Each batch commits on its
// own, so an interrupted rotation resumes where it stopped when run again.
func (s *Store) ResealContacts(ctx context.Context, f func(c SealedContact) ([]byte, bool, error)) (changed, total int64, err error) {
	var after int64
	for {
		var batch []SealedContact
		rows, err := s.rdb.QueryContext(ctx, `SELECT c.response_seq, r.id, c.sealed FROM contacts c JOIN responses r ON r.seq = c.response_seq
			WHERE c.response_seq > $1 ORDER BY c.response_seq LIMIT $2`, after, retentionBatch)
		if err != nil {
			return changed, total, fmt.Errorf("storage: read contacts: %w", err)
		}
		for rows.Next() {
			var c SealedContact
			if err := rows.Scan(&c.Seq, &c.ResponseID, &c.Sealed); err != nil {
				rows.Close()
				return changed, total, fmt.Errorf("storage: read contacts: %w", err)
			}
			batch = append(batch, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return changed, total, fmt.Errorf("storage: read contacts: %w", err)
		}
		if len(batch) == 0 {
			return changed, total, nil
		}
		after = batch[len(batch)-1].Seq
		total += int64(len(batch))
		n := int64(0)
		err = s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, c := range batch {
				out, ok, err := f(c)
				if err != nil {
					return fmt.Errorf("contact of response %s: %w", c.ResponseID, err)
				}
				if !ok {
					continue
				}
				if err := tx.Exec("UPDATE contacts SET sealed = ? WHERE response_seq = ?", out, c.Seq).Error; err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return changed, total, fmt.Errorf("storage: reseal contacts: %w", err)
		}
		changed += n
	}
}

// SealedContactOf returns the sealed contact details of a response (for
// tests of a rotation and for the cases feature's detail view).
func (s *Store) SealedContactOf(ctx context.Context, responseID string) ([]byte, error) {
	var sealed []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT c.sealed FROM contacts c JOIN responses r ON r.seq = c.response_seq WHERE r.id = $1`, responseID).Scan(&sealed)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("storage: contact: %w", err)
	}
	return sealed, nil
}
