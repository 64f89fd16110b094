// Package export writes CareVoice's CSV exports. The Export page, GET
// /api/v1/export.csv and `carevoice export` all call Write, so the three give
// the same bytes for the same filters.
//
// The files are RFC 4180 (encoding/csv, CRLF line ends), UTF-8 with an
// optional byte-order mark for Excel, times in ISO 8601 with the offset of
// the response's site, empty cells for unanswered questions, and every text
// cell that a spreadsheet could read as a formula neutralised (see Cell).
// Rows are written as they are read, one page at a time, so memory stays flat
// whatever the size of the export.
package export

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/redact"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// The export formats.
const (
	FormatResponses = "responses" // one row a response, one column a question
	FormatComments  = "comments"  // one row a free-text answer with its analysis
)

// ValidFormat reports whether f names an export format.
func ValidFormat(f string) bool { return f == FormatResponses || f == FormatComments }

// BOM is the UTF-8 byte-order mark that makes Excel read the file as UTF-8.
const BOM = "\uFEFF"

// Options say what to export and how.
type Options struct {
	Format string // FormatResponses (the default) or FormatComments
	Filter storage.ResponseFilter
	BOM    bool
	// Redact masks phones, emails, dates and names in free text.
	Redact   bool
	Redactor *redact.Redactor // nil means redact.Default()
	// IncludeContact adds the decrypted contact details (responses format
	// only). Callers allow it for admins who ask explicitly, and audit it.
	IncludeContact bool
	Keys           *secure.Keyring // opens contact details
	// PageSize is the number of responses read per query (default 1000).
	PageSize int
}

// Result says what an export wrote, for the audit log.
type Result struct {
	Rows int
	// Masks counts what redaction masked in the free-text cells.
	Masks redact.Counts
	// Contacts counts rows that carry decrypted contact details;
	// ContactErrors those whose sealed details would not open.
	Contacts, ContactErrors int
}

// ErrContactFormat is returned when contact details are asked for in a
// format that has no place for them.
var ErrContactFormat = errors.New("export: contact details come with the responses format only")

// ErrNoKeys is returned when contact details are asked for without a keyring.
var ErrNoKeys = errors.New("export: contact details need the secret key")

// Write writes the export selected by o to w, flushing after each page so the
// reader sees rows as they are read. It stops at the first write error (a
// client that went away) or when ctx ends, and returns what it wrote so far.
func Write(ctx context.Context, st *storage.Store, w io.Writer, o Options) (Result, error) {
	if o.Format == "" {
		o.Format = FormatResponses
	}
	if !ValidFormat(o.Format) {
		return Result{}, fmt.Errorf("export: unknown format %q", o.Format)
	}
	if o.IncludeContact && o.Format != FormatResponses {
		return Result{}, ErrContactFormat
	}
	if o.IncludeContact && o.Keys == nil {
		return Result{}, ErrNoKeys
	}
	if o.Redact && o.Redactor == nil {
		o.Redactor = redact.Default()
	}
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	zones, err := siteZones(ctx, st)
	if err != nil {
		return Result{}, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if o.BOM {
		if _, err := bw.WriteString(BOM); err != nil {
			return Result{}, fmt.Errorf("export: write: %w", err)
		}
	}
	e := &exporter{o: o, cw: &recordWriter{bw}, bw: bw, zones: zones}
	if o.Format == FormatComments {
		err = e.comments(ctx, st)
	} else {
		err = e.responses(ctx, st)
	}
	if err != nil {
		return e.res, err
	}
	return e.res, e.flush()
}

type exporter struct {
	o     Options
	cw    *recordWriter
	bw    *bufio.Writer
	zones map[string]*time.Location
	res   Result
	row   []string
}

func (e *exporter) flush() error {
	if err := e.bw.Flush(); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

func (e *exporter) write(rec []string) error {
	if err := e.cw.Write(rec); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

func siteZones(ctx context.Context, st *storage.Store) (map[string]*time.Location, error) {
	sites, err := st.Sites(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("export: sites: %w", err)
	}
	m := make(map[string]*time.Location, len(sites))
	for i := range sites {
		m[sites[i].Slug] = sites[i].Location()
	}
	return m, nil
}

func (e *exporter) zone(site string) *time.Location {
	if loc := e.zones[site]; loc != nil {
		return loc
	}
	return time.UTC
}

// Cell neutralises a text cell for spreadsheets: one that begins with =, +,
// -, @, tab, CR or LF gets a leading apostrophe, so Excel, LibreOffice and
// Sheets show it as text instead of running it as a formula.
func Cell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r\n", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Time formats t in ISO 8601 with the offset of loc, to the second.
func Time(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }

// responseHead are the fixed columns of the responses format.
var responseHead = []string{"response_id", "survey", "survey_version", "site", "department", "provider", "channel",
	"lang", "submitted_at", "local_date", "contact_requested"}

// contactHead are added for an admin who asks for contact details.
var contactHead = []string{"contact_ok", "contact_name", "contact_phone", "contact_email"}

// column is one question column: survey slug and question id.
type column struct{ survey, question, qtype string }

// Columns returns the question columns of the responses format for the
// surveys a filter selects: "<survey>.<question>" for every question of every
// stored version, latest version's order first, then questions that only
// older versions had. Names depend only on the survey definitions, never on
// which rows match, so scripts can rely on them.
func Columns(defs []survey.Survey) []string {
	cols := questionColumns(defs)
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.survey + "." + c.question
	}
	return out
}

func questionColumns(defs []survey.Survey) []column {
	bySlug := map[string][]survey.Survey{}
	var slugs []string
	for _, d := range defs {
		if _, ok := bySlug[d.Slug]; !ok {
			slugs = append(slugs, d.Slug)
		}
		bySlug[d.Slug] = append(bySlug[d.Slug], d)
	}
	slices.Sort(slugs)
	var out []column
	for _, slug := range slugs {
		vs := bySlug[slug]
		slices.SortFunc(vs, func(a, b survey.Survey) int { return b.Version - a.Version })
		seen := map[string]bool{}
		for _, v := range vs {
			for _, q := range v.Questions {
				if !seen[q.ID] {
					seen[q.ID] = true
					out = append(out, column{slug, q.ID, q.Type})
				}
			}
		}
	}
	return out
}

func (e *exporter) responses(ctx context.Context, st *storage.Store) error {
	defs, err := st.SurveyVersions(ctx, e.o.Filter.Survey)
	if err != nil {
		return fmt.Errorf("export: surveys: %w", err)
	}
	cols := questionColumns(defs)
	index := make(map[string]int, len(cols)) // "survey\x00question" → column
	for i, c := range cols {
		index[c.survey+"\x00"+c.question] = i
	}
	head := slices.Clone(responseHead)
	for _, c := range cols {
		head = append(head, c.survey+"."+c.question)
	}
	if e.o.IncludeContact {
		head = append(head, contactHead...)
	}
	if err := e.write(head); err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	row := make([]string, len(head))
	nq := len(responseHead)
	po := storage.PageOptions{Limit: e.o.PageSize, Contacts: e.o.IncludeContact}
	return st.EachResponse(ctx, e.o.Filter, po, func(page []storage.ExportResponse) error {
		if e.o.Redact {
			var texts []*string
			for i := range page {
				for j := range page[i].Answers {
					if t := page[i].Answers[j].Text; t != nil {
						texts = append(texts, t)
					}
				}
			}
			e.res.Masks.Add(redactAll(ctx, e.o.Redactor, texts))
			if err := ctx.Err(); err != nil {
				return err // some texts may be left unmasked: write none of them
			}
		}
		for i := range page {
			r := &page[i]
			clear(row)
			row[0], row[1], row[2], row[3] = Cell(r.ID), Cell(r.Survey), strconv.Itoa(r.SurveyVersion), Cell(r.Site)
			row[4], row[5], row[6], row[7] = Cell(r.Department), Cell(r.Provider), Cell(r.Channel), Cell(r.Lang)
			row[8], row[9], row[10] = Time(r.SubmittedAt, e.zone(r.Site)), r.LocalDay, yesNo(r.WantsContact)
			for _, a := range r.Answers {
				if k, ok := index[r.Survey+"\x00"+a.Question]; ok {
					row[nq+k] = answerCell(a)
				}
			}
			if e.o.IncludeContact && r.Sealed != nil {
				e.contact(r, row[len(row)-len(contactHead):])
			}
			if err := e.write(row); err != nil {
				return err
			}
			e.res.Rows++
		}
		return e.flush()
	})
}

// contact fills the contact cells from the sealed details.
func (e *exporter) contact(r *storage.ExportResponse, cells []string) {
	b, err := e.o.Keys.Open(r.Sealed, []byte(r.ID))
	var c survey.Contact
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		e.res.ContactErrors++
		return
	}
	e.res.Contacts++
	cells[0], cells[1], cells[2], cells[3] = yesNo(c.OKToContact), Cell(c.Name), Cell(c.Phone), Cell(c.Email)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// answerCell renders an answer in its column: numbers as numbers, yes/no,
// option ids (";"-joined for multi), neutralised free text.
func answerCell(a storage.StoredAnswer) string {
	switch {
	case a.Text != nil:
		return Cell(*a.Text)
	case a.Num != nil && a.Type == "yesno":
		return yesNo(*a.Num == 1)
	case a.Num != nil:
		return strconv.FormatInt(*a.Num, 10)
	case a.Choices != nil:
		return Cell(strings.Join(a.Choices, ";"))
	}
	return ""
}

// commentHead are the columns of the comments format.
var commentHead = []string{"response_id", "survey", "survey_version", "site", "department", "provider", "channel",
	"lang", "submitted_at", "local_date", "question", "intent", "text", "sentiment", "score", "themes", "evidence",
	"analyzer_version"}

func (e *exporter) comments(ctx context.Context, st *storage.Store) error {
	if err := e.write(commentHead); err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	row := make([]string, len(commentHead))
	return st.EachComment(ctx, e.o.Filter, func(page []storage.ExportComment) error {
		if e.o.Redact {
			e.res.Masks.Add(RedactComments(ctx, e.o.Redactor, page))
			if err := ctx.Err(); err != nil {
				return err // some texts may be left unmasked: write none of them
			}
		}
		for i := range page {
			c := &page[i]
			clear(row)
			row[0], row[1], row[2], row[3] = Cell(c.ResponseID), Cell(c.Survey), strconv.Itoa(c.SurveyVersion), Cell(c.Site)
			row[4], row[5], row[6], row[7] = Cell(c.Department), Cell(c.Provider), Cell(c.Channel), Cell(c.Lang)
			row[8], row[9], row[10], row[11] = Time(c.SubmittedAt, e.zone(c.Site)), c.LocalDay, Cell(c.Question), Cell(c.Intent)
			row[12] = Cell(c.Text)
			if a := c.Analysis; a != nil {
				row[13] = Cell(a.Sentiment)
				row[14] = strconv.FormatFloat(a.Score, 'f', 3, 64)
				row[15] = Cell(ThemesCell(a.Themes))
				row[16] = Cell(EvidenceCell(a.Themes))
				row[17] = Cell(a.Version)
			}
			if err := e.write(row); err != nil {
				return err
			}
			e.res.Rows++
		}
		return e.flush()
	})
}

// ThemesCell lists a comment's themes as "id:polarity" pairs, ";"-joined in
// taxonomy order, each pair once.
func ThemesCell(hits []analytics.ThemeHit) string {
	var parts []string
	for _, id := range analytics.ThemeIDs {
		for _, h := range hits {
			if h.ID == id {
				p := h.ID + ":" + h.Polarity
				if !slices.Contains(parts, p) {
					parts = append(parts, p)
				}
			}
		}
	}
	return strings.Join(parts, ";")
}

// EvidenceCell lists each theme hit's evidence phrase as "id: phrase",
// joined by " | " (phrases may hold ";"), in taxonomy order.
func EvidenceCell(hits []analytics.ThemeHit) string {
	var parts []string
	for _, id := range analytics.ThemeIDs {
		for _, h := range hits {
			if h.ID == id && h.Evidence != "" {
				parts = append(parts, h.ID+": "+h.Evidence)
			}
		}
	}
	return strings.Join(parts, " | ")
}

// RedactComments masks the text and theme evidence of comments in place
// (r nil means redact.Default()) and counts the masks in the texts; evidence
// quotes the text, so its masks are not counted twice. When ctx ends early
// some texts stay unmasked: callers must then not show them.
func RedactComments(ctx context.Context, r *redact.Redactor, page []storage.ExportComment) redact.Counts {
	if r == nil {
		r = redact.Default()
	}
	var texts, evidence []*string
	for i := range page {
		texts = append(texts, &page[i].Text)
		if a := page[i].Analysis; a != nil {
			for j := range a.Themes {
				evidence = append(evidence, &a.Themes[j].Evidence)
			}
		}
	}
	counts := redactAll(ctx, r, texts)
	redactAll(ctx, r, evidence)
	return counts
}

// redactAll masks the texts in place, on all cores (prose's recogniser costs
// about a millisecond a comment), and returns the total counts.
func redactAll(ctx context.Context, r *redact.Redactor, texts []*string) redact.Counts {
	var total redact.Counts
	if len(texts) == 0 {
		return total
	}
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan *string)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine redact.Counts
			for t := range next {
				masked, c := r.Redact(*t)
				*t = masked
				mine.Add(c)
			}
			mu.Lock()
			total.Add(mine)
			mu.Unlock()
		}()
	}
	for _, t := range texts {
		if ctx.Err() != nil {
			break
		}
		next <- t
	}
	close(next)
	wg.Wait()
	return total
}

// auditHead are the columns of the audit log's own export.
var auditHead = []string{"id", "at", "actor", "action", "target", "detail"}

// WriteAudit writes the audit entries q selects, newest first, as CSV with
// times in UTC; detail is the entry's JSON. It returns the rows written.
func WriteAudit(ctx context.Context, st *storage.Store, w io.Writer, q storage.AuditQuery, bom bool) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if bom {
		bw.WriteString(BOM)
	}
	e := &exporter{cw: &recordWriter{bw}, bw: bw}
	if err := e.write(auditHead); err != nil {
		return 0, err
	}
	rows := 0
	row := make([]string, len(auditHead))
	err := st.EachAudit(ctx, q, func(es []storage.AuditEntry) error {
		for _, a := range es {
			row[0], row[1], row[2] = strconv.FormatInt(a.ID, 10), Time(time.UnixMilli(a.At), time.UTC), Cell(a.Actor)
			row[3], row[4], row[5] = Cell(a.Action), Cell(a.Target), Cell(a.Detail)
			if err := e.write(row); err != nil {
				return err
			}
			rows++
		}
		return e.flush()
	})
	if err != nil {
		return rows, err
	}
	return rows, e.flush()
}
