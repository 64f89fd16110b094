package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/survey"
)

// ResponseFilter selects responses for exports and the reporting API: the
// dashboard's filters. Empty fields do not filter.
type ResponseFilter struct {
	// FromDay and ToDay are inclusive local dates (YYYY-MM-DD) in each
	// response's site zone, as the dashboard counts days.
	FromDay, ToDay string
	Site           string
	Department     string
	Provider       string
	Survey         string
	Channel        string

	seqTo int64 // export pages: only seq <= seqTo
}

// Map describes the filter for the audit log (set fields only).
func (f ResponseFilter) Map() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{"from": f.FromDay, "to": f.ToDay, "site": f.Site, "department": f.Department,
		"provider": f.Provider, "survey": f.Survey, "channel": f.Channel} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// where returns the SQL condition over responses aliased r, numbering its
// placeholders after those already in args.
func (f ResponseFilter) where(args *[]any) string {
	var conds []string
	add := func(cond string, v any) {
		*args = append(*args, v)
		conds = append(conds, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(*args))))
	}
	// local_day is exact but not indexed; the widened submitted_at bound
	// (every zone is within UTC-12…UTC+14) lets the time index do the work.
	if d, err := time.Parse(time.DateOnly, f.FromDay); err == nil {
		add("r.submitted_at >= ?", d.Add(-14*time.Hour).UnixMilli())
		add("r.local_day >= ?", f.FromDay)
	}
	if d, err := time.Parse(time.DateOnly, f.ToDay); err == nil {
		add("r.submitted_at < ?", d.Add(36*time.Hour).UnixMilli())
		add("r.local_day <= ?", f.ToDay)
	}
	if f.seqTo > 0 {
		add("r.seq <= ?", f.seqTo)
	}
	for _, c := range []struct{ col, v string }{{"site", f.Site}, {"department", f.Department},
		{"provider", f.Provider}, {"survey", f.Survey}, {"channel", f.Channel}} {
		if c.v != "" {
			add("r."+c.col+" = ?", c.v)
		}
	}
	if len(conds) == 0 {
		return "1=1"
	}
	return strings.Join(conds, " AND ")
}

// seqOrder keeps SQLite walking responses in seq (rowid) order. Left to
// itself it answers "site = ? ORDER BY seq LIMIT n" from the site index and
// sorts every row of the site for each page, which makes an export
// quadratic; a rowid walk stops after n matches and the next page resumes
// there. PostgreSQL's planner weighs the LIMIT itself.
func (s *Store) seqOrder() string {
	if s.dialect == "sqlite" {
		return " NOT INDEXED"
	}
	return ""
}

// ExportResponse is one response with what exports need beyond the API shape.
type ExportResponse struct {
	StoredResponse
	LocalDay string
	// Sealed holds the encrypted contact details when they were asked for.
	Sealed []byte
}

// PageOptions say what a page of responses carries.
type PageOptions struct {
	After int64 // responses.seq cursor: only rows after it
	Limit int
	// Analysis reads the analysis of text answers too; without it answers
	// come in question-id order rather than the survey's.
	Analysis bool
	Contacts bool // read the sealed contact details
}

// ResponsesPage returns up to o.Limit responses after the cursor in seq
// order, with their answers in question order.
//
// seq is a stable cursor under concurrent inserts: no row can become
// visible below a seq a page has shown, so new responses only ever appear
// after the last page. Within a process one group writer commits one
// transaction at a time; with several instances on PostgreSQL the page's
// query waits for the batches that hold seqs to commit (cursorQuery,
// writer_order.go; TestSeqCursorTwoWriters).
func (s *Store) ResponsesPage(ctx context.Context, f ResponseFilter, o PageOptions) ([]ExportResponse, error) {
	return s.responsesPage(ctx, f, o, true)
}

func (s *Store) responsesPage(ctx context.Context, f ResponseFilter, o PageOptions, withAnswers bool) ([]ExportResponse, error) {
	if o.Limit <= 0 {
		o.Limit = 1000
	}
	args := []any{}
	cond := f.where(&args)
	args = append(args, o.After, o.Limit)
	sealed := "NULL"
	join := ""
	if o.Contacts {
		sealed, join = "c.sealed", " LEFT JOIN contacts c ON c.response_seq = r.seq"
	}
	// The short text columns (slugs, language, day: none can hold a control
	// character) come joined by U+001F: each text column costs the driver
	// two allocations, and an export reads a million rows.
	sep := "char(31)"
	if s.dialect == "postgres" {
		sep = "chr(31)"
	}
	joined := strings.Join([]string{"r.survey", "r.site", "r.department", "r.provider", "r.channel", "r.lang", "r.local_day"}, " || "+sep+" || ")
	q := fmt.Sprintf(`SELECT r.seq, r.id, r.survey_version, r.submitted_at, r.wants_contact, %s, %s FROM responses r%s%s
		WHERE %s AND r.seq > $%d ORDER BY r.seq LIMIT $%d`, joined, sealed, s.seqOrder(), join, cond, len(args)-1, len(args))
	rows, done, err := s.pageQuery(ctx, f, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: export responses: %w", err)
	}
	out := make([]ExportResponse, 0, min(o.Limit, 1000))
	for rows.Next() {
		var r ExportResponse
		var at int64
		var wants int
		var texts string
		if err := rows.Scan(&r.Seq, &r.ID, &r.SurveyVersion, &at, &wants, &texts, &r.Sealed); err != nil {
			done()
			return nil, fmt.Errorf("storage: scan export response: %w", err)
		}
		var ok bool
		if r.Survey, texts, ok = strings.Cut(texts, "\x1f"); ok {
			r.Site, texts, ok = strings.Cut(texts, "\x1f")
		}
		if ok {
			r.Department, texts, ok = strings.Cut(texts, "\x1f")
		}
		if ok {
			r.Provider, texts, ok = strings.Cut(texts, "\x1f")
		}
		if ok {
			r.Channel, texts, ok = strings.Cut(texts, "\x1f")
		}
		if ok {
			r.Lang, r.LocalDay, ok = strings.Cut(texts, "\x1f")
		}
		if !ok || strings.Contains(r.LocalDay, "\x1f") {
			done()
			return nil, fmt.Errorf("storage: export response %s: a slug holds a control character", r.ID)
		}
		r.SubmittedAt, r.WantsContact, r.HasContact = time.UnixMilli(at), wants == 1, r.Sealed != nil
		out = append(out, r)
	}
	done()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: export responses: %w", err)
	}
	if len(out) == 0 || !withAnswers {
		return out, nil
	}
	if !o.Analysis {
		return out, s.packedAnswers(ctx, out)
	}
	return out, s.pageAnswers(ctx, out, true)
}

// pageQuery runs the query of a page: a cursor read (cursorQuery), or,
// for a range under the horizon an export read first (f.seqTo), a plain
// one, as every row of the range has committed. done closes the rows.
func (s *Store) pageQuery(ctx context.Context, f ResponseFilter, q string, args ...any) (rows *sql.Rows, done func(), err error) {
	if f.seqTo > 0 {
		return s.readRows(ctx, "", q, args...)
	}
	return s.cursorQuery(ctx, q, args...)
}

// packedAnswers fills the answers of a page without their analysis. Each
// response's answers come packed in one JSON string, built by the engine in
// one walk over the page's range of the answers key: a quarter of the rows
// through the driver, which is where an export spends its time. Answers are
// then in question-id order.
func (s *Store) packedAnswers(ctx context.Context, page []ExportResponse) error {
	q := `SELECT a.response_seq, json_group_array(json_array(a.question, a.qtype, a.value_num, a.value_text, a.value_choices))
		FROM answers a WHERE a.response_seq BETWEEN $1 AND $2 GROUP BY a.response_seq ORDER BY a.response_seq`
	if s.dialect == "postgres" {
		q = `SELECT a.response_seq, json_agg(json_build_array(a.question, a.qtype, a.value_num, a.value_text, a.value_choices))::text
			FROM answers a WHERE a.response_seq BETWEEN $1 AND $2 GROUP BY a.response_seq ORDER BY a.response_seq`
	}
	rows, err := s.rdb.QueryContext(ctx, q, page[0].Seq, page[len(page)-1].Seq)
	if err != nil {
		return fmt.Errorf("storage: export answers: %w", err)
	}
	defer rows.Close()
	i := 0
	var seq int64
	var pack string
	for rows.Next() {
		if err := rows.Scan(&seq, &pack); err != nil {
			return fmt.Errorf("storage: scan export answers: %w", err)
		}
		for i < len(page) && page[i].Seq < seq {
			i++
		}
		if i == len(page) {
			break
		}
		if page[i].Seq != seq {
			continue // a response the filter left out
		}
		if page[i].Answers, err = unpackAnswers(pack); err != nil {
			return fmt.Errorf("storage: response %s: %w", page[i].ID, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: export answers: %w", err)
	}
	return nil
}

// unpackAnswers reads the packed answers column: a JSON array of
// [question, type, number|null, text|null, choices-json|null]. It is a small
// scanner for exactly that shape (both engines' JSON, whitespace allowed);
// strings with escapes go through encoding/json.
func unpackAnswers(p string) ([]StoredAnswer, error) {
	sc := packScanner{s: p}
	if !sc.byte('[') {
		return nil, sc.fail()
	}
	var out []StoredAnswer
	if sc.byte(']') {
		return out, nil
	}
	for {
		var a StoredAnswer
		var choices *string
		ok := sc.byte('[') && sc.str(&a.Question) && sc.byte(',') && sc.str(&a.Type) && sc.byte(',') &&
			sc.num(&a.Num) && sc.byte(',') && sc.optStr(&a.Text) && sc.byte(',') && sc.optStr(&choices) && sc.byte(']')
		if !ok {
			return nil, sc.fail()
		}
		if choices != nil {
			a.Choices = decodeChoices(*choices)
		}
		out = append(out, a)
		if sc.byte(']') {
			return out, nil
		}
		if !sc.byte(',') {
			return nil, sc.fail()
		}
	}
}

type packScanner struct {
	s string
	i int
}

func (sc *packScanner) fail() error {
	return fmt.Errorf("bad packed answers at byte %d", sc.i)
}

func (sc *packScanner) skip() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\n' || sc.s[sc.i] == '\t' || sc.s[sc.i] == '\r') {
		sc.i++
	}
}

func (sc *packScanner) byte(b byte) bool {
	sc.skip()
	if sc.i < len(sc.s) && sc.s[sc.i] == b {
		sc.i++
		return true
	}
	return false
}

func (sc *packScanner) null() bool {
	sc.skip()
	if strings.HasPrefix(sc.s[sc.i:], "null") {
		sc.i += 4
		return true
	}
	return false
}

func (sc *packScanner) str(dst *string) bool {
	sc.skip()
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return false
	}
	start := sc.i
	escaped := false
	for j := sc.i + 1; j < len(sc.s); j++ {
		switch sc.s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			sc.i = j + 1
			if !escaped {
				*dst = sc.s[start+1 : j]
				return true
			}
			v, ok := unescapeJSON(sc.s[start+1 : j])
			*dst = v
			return ok
		}
	}
	return false
}

// unescapeJSON decodes the body of a JSON string that has escapes.
func unescapeJSON(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			b.WriteByte(s[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := hex4(s, i+3)
				if !ok || i+2 >= len(s) || s[i+1] != '\\' || s[i+2] != 'u' {
					r = utf8.RuneError
				} else if r = utf16.DecodeRune(r, r2); r != utf8.RuneError {
					i += 6
				}
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(n), err == nil
}

func (sc *packScanner) optStr(dst **string) bool {
	if sc.null() {
		return true
	}
	var v string
	if !sc.str(&v) {
		return false
	}
	*dst = &v
	return true
}

func (sc *packScanner) num(dst **int64) bool {
	if sc.null() {
		return true
	}
	j := sc.i
	for j < len(sc.s) && (sc.s[j] == '-' || sc.s[j] >= '0' && sc.s[j] <= '9') {
		j++
	}
	n, err := strconv.ParseInt(sc.s[sc.i:j], 10, 64)
	if err != nil {
		return false
	}
	sc.i = j
	*dst = &n
	return true
}

// pageAnswers fills the answers of a page of responses with one query over
// the page's seq range. Answers of responses in the range that the filter
// left out are skipped here; consecutive pages have disjoint ranges, so an
// export reads each answer at most once.
func (s *Store) pageAnswers(ctx context.Context, page []ExportResponse, analysis bool) error {
	cols := "NULL, NULL, NULL, NULL"
	if analysis {
		cols = "a.sentiment, a.score, a.themes, a.analyzer_version"
	}
	q := fmt.Sprintf(`SELECT a.response_seq, a.question, a.qtype, a.intent, a.value_num, a.value_text, a.value_choices, %s
		FROM answers a WHERE a.response_seq BETWEEN $1 AND $2 ORDER BY a.response_seq, a.position`, cols)
	args := []any{page[0].Seq, page[len(page)-1].Seq}
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("storage: export answers: %w", err)
	}
	defer rows.Close()
	i := 0
	var seq int64
	var num sql.NullInt64
	var text, choices, sentiment, themes, version sql.NullString
	var score sql.NullFloat64
	for rows.Next() {
		var a StoredAnswer
		if err := rows.Scan(&seq, &a.Question, &a.Type, &a.Intent, &num, &text, &choices, &sentiment, &score, &themes, &version); err != nil {
			return fmt.Errorf("storage: scan export answer: %w", err)
		}
		for i < len(page) && page[i].Seq < seq {
			i++
		}
		if i == len(page) {
			break
		}
		if page[i].Seq != seq {
			continue
		}
		if num.Valid {
			n := num.Int64
			a.Num = &n
		}
		if text.Valid {
			t := text.String
			a.Text = &t
		}
		if choices.Valid {
			a.Choices = decodeChoices(choices.String)
		}
		if sentiment.Valid {
			a.Analysis = &analytics.Result{Sentiment: sentiment.String, Score: score.Float64, Version: version.String, Themes: []analytics.ThemeHit{}}
			if themes.Valid {
				json.Unmarshal([]byte(themes.String), &a.Analysis.Themes)
			}
		}
		page[i].Answers = append(page[i].Answers, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: export answers: %w", err)
	}
	return nil
}

// decodeChoices reads the stored JSON array of option ids. Option ids are
// slugs, so the common case needs no JSON decoder; anything with an escape
// goes through encoding/json.
func decodeChoices(s string) []string {
	if !strings.ContainsRune(s, '\\') && strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		body := strings.TrimSpace(s[1 : len(s)-1])
		if body == "" {
			return []string{}
		}
		parts := strings.Split(body, ",")
		out := make([]string, 0, len(parts))
		ok := true
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' || strings.ContainsRune(p[1:len(p)-1], '"') {
				ok = false
				break
			}
			out = append(out, p[1:len(p)-1])
		}
		if ok {
			return out
		}
	}
	var out []string
	json.Unmarshal([]byte(s), &out)
	return out
}

// EachResponse calls fn with successive pages of the responses that match f,
// in seq order, until they run out, fn fails or ctx ends. It covers the
// responses stored before it began. o.Limit is the seq span of a page
// (default 1000); o.After is ignored.
func (s *Store) EachResponse(ctx context.Context, f ResponseFilter, o PageOptions, fn func([]ExportResponse) error) error {
	span := int64(o.Limit)
	if span <= 0 {
		span = exportSpan
	}
	return eachRange(ctx, s, span, func(ctx context.Context, lo, hi int64) ([]ExportResponse, error) {
		return s.responseRange(ctx, f, o, lo, hi)
	}, fn)
}

// exportSpan is the number of seq values one page of an export covers, so a
// page holds at most that many responses whatever the filter.
const exportSpan = 1000

// responseRange reads the matching responses with lo < seq <= hi.
func (s *Store) responseRange(ctx context.Context, f ResponseFilter, o PageOptions, lo, hi int64) ([]ExportResponse, error) {
	f.seqTo = hi
	o.After, o.Limit = lo, int(hi-lo)
	return s.responsesPage(ctx, f, o, true)
}

// eachRange reads pages of seq ranges on several connections at once and
// hands them to fn in order: an export is bound by reading rows through the
// driver, and this lets it use every core. At most workers+2 pages are held,
// so memory stays flat whatever the size of the export. A failing fn or an
// ended ctx stops the readers.
func eachRange[T any](ctx context.Context, s *Store, span int64, fetch func(ctx context.Context, lo, hi int64) ([]T, error), fn func([]T) error) error {
	// The horizon: every response up to max has committed (cursorQuery),
	// so the range pages below need no lock.
	var first, max int64
	rows, done, err := s.cursorQuery(ctx, "SELECT COALESCE(MIN(seq), 1), COALESCE(MAX(seq), 0) FROM responses")
	if err != nil {
		return fmt.Errorf("storage: export: %w", err)
	}
	if rows.Next() {
		err = rows.Scan(&first, &max)
	}
	if err == nil {
		err = rows.Err()
	}
	done()
	if err != nil {
		return fmt.Errorf("storage: export: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		page []T
		err  error
	}
	type job struct {
		lo, hi int64
		out    chan result
	}
	workers := min(runtime.GOMAXPROCS(0), 4)
	jobs := make(chan job)
	order := make(chan chan result, workers+1)
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		defer close(jobs)
		defer close(order)
		for lo := first - 1; lo < max; lo += span {
			j := job{lo, min(lo+span, max), make(chan result, 1)}
			select {
			case order <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				j.out <- result{err: ctx.Err()}
				return
			}
		}
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for j := range jobs {
				page, err := fetch(ctx, j.lo, j.hi)
				j.out <- result{page, err}
			}
		}()
	}
	err = nil
	for out := range order {
		r := <-out
		if err = r.err; err == nil && len(r.page) > 0 {
			err = fn(r.page)
		}
		if err != nil {
			break
		}
	}
	cancel()
	wg.Wait()
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// Report the caller's cancellation, not the query's wrapped error.
		return context.Canceled
	}
	return err
}

// ExportComment is one free-text answer with its response's context.
type ExportComment struct {
	Seq           int64
	Position      int
	ResponseID    string
	Survey        string
	SurveyVersion int
	Site          string
	Department    string
	Provider      string
	Channel       string
	Lang          string
	SubmittedAt   time.Time
	LocalDay      string
	Question      string
	Intent        string
	Text          string
	// Analysis is nil for a comment not analyzed yet.
	Analysis *analytics.Result
}

// CommentKey orders comments: by response, then question id, the order of
// the answers' primary key, so a page is an index walk with no sort.
type CommentKey struct {
	Seq      int64
	Question string
}

// CommentsPage returns up to limit free-text answers after the cursor.
func (s *Store) CommentsPage(ctx context.Context, f ResponseFilter, after CommentKey, limit int) ([]ExportComment, error) {
	if limit <= 0 {
		limit = 1000
	}
	args := []any{}
	cond := f.where(&args)
	if f.seqTo > 0 {
		// Bounds the walk over answers too, not only the responses joined.
		args = append(args, f.seqTo)
		cond += " AND a.response_seq <= $" + strconv.Itoa(len(args))
	}
	args = append(args, after.Seq, after.Question, limit)
	n := len(args)
	// CROSS JOIN makes SQLite drive the loop from answers in key order (it
	// would otherwise collect every later comment and sort them for each
	// page); PostgreSQL has no CROSS JOIN … ON and plans this well anyway.
	join := "JOIN"
	if s.dialect == "sqlite" {
		join = "CROSS JOIN"
	}
	q := fmt.Sprintf(`SELECT r.seq, a.position, r.id, r.survey, r.survey_version, r.site, r.department, r.provider, r.channel,
		r.lang, r.submitted_at, r.local_day, a.question, a.intent, a.value_text, a.sentiment, a.score, a.themes, a.analyzer_version
		FROM answers a %s responses r ON r.seq = a.response_seq
		WHERE %s AND a.value_text IS NOT NULL AND a.response_seq >= $%d AND (a.response_seq > $%d OR a.question > $%d)
		ORDER BY a.response_seq, a.question LIMIT $%d`, join, cond, n-2, n-2, n-1, n)
	rows, done, err := s.pageQuery(ctx, f, q, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: export comments: %w", err)
	}
	defer done()
	out := make([]ExportComment, 0, min(limit, 1000))
	var at int64
	var sentiment, themes, version sql.NullString
	var score sql.NullFloat64
	for rows.Next() {
		var c ExportComment
		if err := rows.Scan(&c.Seq, &c.Position, &c.ResponseID, &c.Survey, &c.SurveyVersion, &c.Site, &c.Department, &c.Provider,
			&c.Channel, &c.Lang, &at, &c.LocalDay, &c.Question, &c.Intent, &c.Text, &sentiment, &score, &themes, &version); err != nil {
			return nil, fmt.Errorf("storage: scan comment: %w", err)
		}
		c.SubmittedAt = time.UnixMilli(at)
		if sentiment.Valid {
			c.Analysis = &analytics.Result{Sentiment: sentiment.String, Score: score.Float64, Version: version.String, Themes: []analytics.ThemeHit{}}
			if themes.Valid {
				json.Unmarshal([]byte(themes.String), &c.Analysis.Themes)
			}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: export comments: %w", err)
	}
	return out, nil
}

// EachComment calls fn with successive pages of matching comments, in
// response then question order, read as EachResponse reads.
func (s *Store) EachComment(ctx context.Context, f ResponseFilter, fn func([]ExportComment) error) error {
	return eachRange(ctx, s, exportSpan/2, func(ctx context.Context, lo, hi int64) ([]ExportComment, error) {
		f.seqTo = hi
		// Every comment of the range: a response has few questions.
		return s.CommentsPage(ctx, f, CommentKey{Seq: lo + 1}, 1<<30)
	}, fn)
}

// SurveyVersions returns every stored version of the surveys, ordered by
// slug then version (one survey when slug is set), for export headers.
func (s *Store) SurveyVersions(ctx context.Context, slug string) ([]survey.Survey, error) {
	var rows []surveyRow
	q := s.r.WithContext(ctx).Order("slug, version")
	if slug != "" {
		q = q.Where("slug = ?", slug)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: survey versions: %w", err)
	}
	out := make([]survey.Survey, 0, len(rows))
	for _, r := range rows {
		d, err := decodeSurvey(r, r.Slug, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}
