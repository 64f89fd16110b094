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

// StoredResponse is a response as read back.
type StoredResponse struct {
	Seq           int64
	ID            string
	Survey        string
	SurveyVersion int
	Site          string
	Department    string
	Provider      string
	Channel       string
	Lang          string
	SubmittedAt   time.Time
	WantsContact  bool
	HasContact    bool
	DeviceID      string // the kiosk that took it, for kiosk responses
	Answers       []StoredAnswer
}

// StoredAnswer is one stored answer with its analysis, if text.
type StoredAnswer struct {
	Question string
	Type     string
	Intent   string
	Num      *int64
	Text     *string
	Choices  []string
	Analysis *analytics.Result
}

// ResponseJSON is the SPEC shape of GET /api/v1/responses/{id}.
type ResponseJSON struct {
	ID               string       `json:"id"`
	Survey           string       `json:"survey"`
	SurveyVersion    int          `json:"survey_version"`
	Site             string       `json:"site"`
	Department       string       `json:"department,omitempty"`
	Provider         string       `json:"provider,omitempty"`
	Channel          string       `json:"channel"`
	Lang             string       `json:"lang"`
	SubmittedAt      string       `json:"submitted_at"`
	ContactRequested bool         `json:"contact_requested"`
	DeviceID         string       `json:"device_id,omitempty"`
	Answers          []AnswerJSON `json:"answers"`
}

// AnswerJSON is one answer in the API.
type AnswerJSON struct {
	Question string        `json:"question"`
	Value    any           `json:"value"`
	Analysis *AnalysisJSON `json:"analysis,omitempty"`
}

// AnalysisJSON is the stored analysis of a text answer.
type AnalysisJSON struct {
	Sentiment string               `json:"sentiment"`
	Score     float64              `json:"score"`
	Themes    []analytics.ThemeHit `json:"themes"`
	Version   string               `json:"version"`
}

// JSON renders the response with times in loc.
func (r *StoredResponse) JSON(loc *time.Location) ResponseJSON {
	out := ResponseJSON{ID: r.ID, Survey: r.Survey, SurveyVersion: r.SurveyVersion, Site: r.Site, Department: r.Department,
		Provider: r.Provider, Channel: r.Channel, Lang: r.Lang, SubmittedAt: r.SubmittedAt.In(loc).Format(time.RFC3339),
		ContactRequested: r.WantsContact, DeviceID: r.DeviceID, Answers: []AnswerJSON{}}
	for _, a := range r.Answers {
		aj := AnswerJSON{Question: a.Question, Value: a.Value()}
		if a.Analysis != nil {
			aj.Analysis = &AnalysisJSON{a.Analysis.Sentiment, a.Analysis.Score, a.Analysis.Themes, a.Analysis.Version}
		}
		out.Answers = append(out.Answers, aj)
	}
	return out
}

// Value is the answer in the shape it was submitted.
func (a StoredAnswer) Value() any {
	switch {
	case a.Text != nil:
		return *a.Text
	case a.Num != nil && a.Type == "yesno":
		return *a.Num == 1
	case a.Num != nil:
		return *a.Num
	case a.Type == "choice" && len(a.Choices) == 1:
		return a.Choices[0]
	default:
		return a.Choices
	}
}

// ResponseByID reads one response with its answers.
func (s *Store) ResponseByID(ctx context.Context, id string) (*StoredResponse, error) {
	var r StoredResponse
	var at int64
	var wants int
	err := s.rdb.QueryRowContext(ctx, `SELECT seq, id, survey, survey_version, site, department, provider, channel, lang,
		submitted_at, wants_contact, EXISTS (SELECT 1 FROM contacts c WHERE c.response_seq = responses.seq), device_id
		FROM responses WHERE id = $1`, id).Scan(&r.Seq, &r.ID, &r.Survey, &r.SurveyVersion, &r.Site, &r.Department,
		&r.Provider, &r.Channel, &r.Lang, &at, &wants, &r.HasContact, &r.DeviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: response: %w", err)
	}
	r.SubmittedAt, r.WantsContact = time.UnixMilli(at), wants == 1
	r.Answers, err = s.answers(ctx, r.Seq)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (s *Store) answers(ctx context.Context, seq int64) ([]StoredAnswer, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT question, qtype, intent, value_num, value_text, value_choices,
		sentiment, score, themes, analyzer_version FROM answers WHERE response_seq = $1 ORDER BY position`, seq)
	if err != nil {
		return nil, fmt.Errorf("storage: answers: %w", err)
	}
	defer rows.Close()
	var out []StoredAnswer
	for rows.Next() {
		a, err := scanAnswer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func scanAnswer(rows *sql.Rows) (StoredAnswer, error) {
	var a StoredAnswer
	var num sql.NullInt64
	var text, choices, sentiment, themes, version sql.NullString
	var score sql.NullFloat64
	if err := rows.Scan(&a.Question, &a.Type, &a.Intent, &num, &text, &choices, &sentiment, &score, &themes, &version); err != nil {
		return a, fmt.Errorf("storage: scan answer: %w", err)
	}
	if num.Valid {
		a.Num = &num.Int64
	}
	if text.Valid {
		a.Text = &text.String
	}
	if choices.Valid {
		json.Unmarshal([]byte(choices.String), &a.Choices)
	}
	if sentiment.Valid {
		a.Analysis = &analytics.Result{Sentiment: sentiment.String, Score: score.Float64, Version: version.String, Themes: []analytics.ThemeHit{}}
		if themes.Valid {
			json.Unmarshal([]byte(themes.String), &a.Analysis.Themes)
		}
	}
	return a, nil
}

// QueryRowForTest runs a read query for tests that compare the rollups with
// the raw data.
func (s *Store) QueryRowForTest(ctx context.Context, q string, dest ...any) error {
	return s.rdb.QueryRowContext(ctx, q).Scan(dest...)
}
