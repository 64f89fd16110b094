package export_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/carevoice/carevoice/analytics"
	"github.com/carevoice/carevoice/export"
	"github.com/carevoice/carevoice/redact"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
	"github.com/carevoice/carevoice/survey"
)

// build makes the stored form of a submission as intake.Build does, with a
// fixed analysis for free text: these tests are about the export, so they
// do not depend on the analyzer's current model.
func build(def *survey.Survey, site *storage.Site, sub *survey.Submission, answers []survey.Parsed, keys *secure.Keyring, at time.Time) (*storage.NewResponse, error) {
	r := &storage.NewResponse{ID: sub.ID, Survey: def.Slug, SurveyVersion: def.Version, Site: site.Slug, Department: sub.Department,
		Channel: sub.Channel, Lang: sub.Lang, SubmittedAt: at, LocalDay: at.In(site.Location()).Format(time.DateOnly),
		Fingerprint: survey.Fingerprint(sub, answers)}
	for _, a := range answers {
		na := storage.NewAnswer{Question: a.Question, Position: a.Position, Type: a.Type, Intent: a.Intent, Num: a.Num, Text: a.Text, Choices: a.Choices}
		if a.Text != nil {
			ev := *a.Text
			if len(ev) > 20 {
				ev = ev[:strings.LastIndex(ev[:20], " ")+1]
			}
			na.Analysis = &analytics.Result{Sentiment: "negative", Score: -0.5, Version: "test",
				Themes: []analytics.ThemeHit{{ID: "wait_times", Polarity: "negative", Evidence: strings.TrimSpace(ev)}}}
		}
		r.Answers = append(r.Answers, na)
	}
	if c := sub.Contact; !c.Empty() {
		b, _ := json.Marshal(c)
		sealed, err := keys.Seal(b, []byte(sub.ID))
		if err != nil {
			return nil, err
		}
		r.Contact, r.WantsContact = sealed, c.OKToContact
	}
	return r, nil
}

// fixture is a store with two sites in different zones.
type fixture struct {
	t     testing.TB
	st    *storage.Store
	keys  *secure.Keyring
	sites map[string]*storage.Site
}

func newFixture(t testing.TB, st *storage.Store) *fixture {
	t.Helper()
	keys, err := secure.NewKeyring(secure.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, keys: keys, sites: map[string]*storage.Site{}}
	ctx := context.Background()
	for _, s := range []storage.Site{
		{Slug: "north", Name: "North", TimeZone: "America/New_York", Departments: []storage.Department{{Slug: "cardiology", Name: "Cardiology"}}},
		{Slug: "south", Name: "South", TimeZone: "Europe/Madrid", Departments: []storage.Department{{Slug: "urgent", Name: "Urgent care"}}},
	} {
		if err := st.UpsertSite(ctx, s); err != nil {
			t.Fatal(err)
		}
		site, err := st.Site(ctx, s.Slug)
		if err != nil {
			t.Fatal(err)
		}
		f.sites[s.Slug] = site
	}
	return f
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// submit stores one response through intake, as the API does; answers maps
// question id to its JSON value.
func (f *fixture) submit(site, slug, dept string, at time.Time, answers map[string]any, contact *survey.Contact) string {
	f.t.Helper()
	ctx := context.Background()
	def, err := f.st.Survey(ctx, slug)
	if err != nil {
		f.t.Fatal(err)
	}
	sub := &survey.Submission{ID: uuid(), Survey: slug, Site: site, Department: dept, Channel: survey.ChannelLink, Lang: "en", Contact: contact}
	for _, q := range def.Questions {
		v, ok := answers[q.ID]
		if !ok {
			continue
		}
		b, _ := json.Marshal(v)
		sub.Answers = append(sub.Answers, survey.Answer{Question: q.ID, Value: b})
	}
	parsed, fields := survey.ValidateAnswers(def, sub.Answers)
	if len(fields) > 0 {
		f.t.Fatalf("invalid test answers: %v", fields)
	}
	r, err := build(def, f.sites[site], sub, parsed, f.keys, at)
	if err != nil {
		f.t.Fatal(err)
	}
	rec, err := f.st.SubmitResponse(ctx, r)
	if err != nil || rec.Outcome != storage.Created {
		f.t.Fatalf("submit: %v %v", rec.Outcome, err)
	}
	return sub.ID
}

// export runs Write and parses the file back with encoding/csv.
func export_(t testing.TB, st *storage.Store, o export.Options) (raw string, rows [][]string, res export.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := export.Write(context.Background(), st, &buf, o)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	raw = buf.String()
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, export.BOM)))
	rows, err = r.ReadAll()
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, raw)
	}
	return raw, rows, res
}

// byName turns rows into maps keyed by the header.
func byName(rows [][]string) []map[string]string {
	var out []map[string]string
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// tricky are comments that must survive the trip exactly.
var tricky = []string{
	`Great care, thanks, really`,
	`She said "you'll be fine" and she was right`,
	"First line\nsecond line\n\nfourth line",
	"Muy amable la enfermera 😊👍🏽, atención rápida",
	`Atención en español: niño, pequeño, corazón, acción`,
	`=cmd|' /C calc'!A0`,
	`+1 for the new chairs`,
	`-2 stars for parking`,
	`@everyone should visit`,
	"\tindented",
}

func TestRoundTrip(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, st *storage.Store) {
		f := newFixture(t, st)
		at := time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)
		ids := map[string]string{} // comment → response id
		for i, text := range tricky {
			site := []string{"north", "south"}[i%2]
			ids[text] = f.submit(site, "fft", "", at.Add(time.Duration(i)*time.Minute), map[string]any{"q1": 1, "q3": text}, nil)
		}
		// One with only the rating: its text cells must be empty.
		onlyRating := f.submit("north", "fft", "cardiology", at, map[string]any{"q1": 0}, nil)
		npsID := f.submit("south", "nps", "", at, map[string]any{"q1": 9}, nil)

		t.Run("Responses", func(t *testing.T) {
			raw, rows, res := export_(t, st, export.Options{})
			if strings.HasPrefix(raw, export.BOM) {
				t.Error("BOM written though not asked for")
			}
			if !strings.Contains(raw, "\r\n") {
				t.Error("rows do not end in CRLF")
			}
			if got, want := res.Rows, len(tricky)+2; got != want || len(rows)-1 != want {
				t.Fatalf("rows: got %d (parsed %d), want %d", got, len(rows)-1, want)
			}
			head := strings.Join(rows[0], ",")
			for _, col := range []string{"response_id", "submitted_at", "fft.q1", "fft.q2", "fft.q3", "nps.q1", "nps.q2", "suggestion.q1"} {
				if !strings.Contains(","+head+",", ","+col+",") {
					t.Errorf("header %q lacks %s", head, col)
				}
			}
			if strings.Contains(head, "contact") && !strings.Contains(head, "contact_requested") {
				t.Errorf("contact columns without asking: %s", head)
			}
			got := map[string]map[string]string{}
			for _, m := range byName(rows) {
				got[m["response_id"]] = m
			}
			for _, text := range tricky {
				m := got[ids[text]]
				want := text
				if strings.ContainsRune("=+-@\t", rune(text[0])) {
					want = "'" + text
				}
				if m["fft.q3"] != want {
					t.Errorf("comment: got %q, want %q", m["fft.q3"], want)
				}
			}
			m := got[onlyRating]
			if m["fft.q1"] != "0" || m["fft.q2"] != "" || m["fft.q3"] != "" || m["nps.q1"] != "" {
				t.Errorf("unanswered cells: q1=%q q2=%q q3=%q nps.q1=%q", m["fft.q1"], m["fft.q2"], m["fft.q3"], m["nps.q1"])
			}
			if m["department"] != "cardiology" {
				t.Errorf("department: got %q", m["department"])
			}
			if n := got[npsID]; n["nps.q1"] != "9" || n["fft.q1"] != "" {
				t.Errorf("nps row: nps.q1=%q fft.q1=%q", n["nps.q1"], n["fft.q1"])
			}
			for _, m := range got {
				ts, err := time.Parse(time.RFC3339, m["submitted_at"])
				if err != nil {
					t.Fatalf("submitted_at %q: %v", m["submitted_at"], err)
				}
				// March 10 2026: New York is on daylight time (−04:00), Madrid on CET (+01:00).
				wantOff := map[string]string{"north": "-04:00", "south": "+01:00"}[m["site"]]
				if !strings.HasSuffix(m["submitted_at"], wantOff) {
					t.Errorf("%s time %q: want offset %s", m["site"], m["submitted_at"], wantOff)
				}
				if ts.Before(at) || ts.After(at.Add(time.Hour)) {
					t.Errorf("time %v out of range", ts)
				}
				if m["local_date"] != ts.Format(time.DateOnly) {
					t.Errorf("local_date %q, submitted_at %q", m["local_date"], m["submitted_at"])
				}
			}
		})

		t.Run("BOM", func(t *testing.T) {
			raw, rows, _ := export_(t, st, export.Options{BOM: true})
			if !strings.HasPrefix(raw, "\xEF\xBB\xBF") || strings.Count(raw, export.BOM) != 1 {
				t.Fatalf("BOM missing or repeated: %q", raw[:12])
			}
			if rows[0][0] != "response_id" {
				t.Errorf("first header: got %q", rows[0][0])
			}
		})

		t.Run("Comments", func(t *testing.T) {
			_, rows, res := export_(t, st, export.Options{Format: export.FormatComments})
			if res.Rows != len(tricky) {
				t.Fatalf("rows: got %d, want %d", res.Rows, len(tricky))
			}
			seen := map[string]bool{}
			for _, m := range byName(rows) {
				text := strings.TrimPrefix(m["text"], "'")
				if strings.HasPrefix(m["text"], "'") && !strings.ContainsRune("=+-@\t", rune(text[0])) {
					t.Errorf("neutralised a harmless cell: %q", m["text"])
				}
				seen[text] = true
				if ids[text] != m["response_id"] {
					t.Errorf("comment %q: response %q, want %q", text, m["response_id"], ids[text])
				}
				if m["question"] != "q3" || m["intent"] != "improve" || m["survey"] != "fft" {
					t.Errorf("context: %v", m)
				}
				switch m["sentiment"] {
				case "positive", "negative", "neutral", "mixed":
				default:
					t.Errorf("sentiment %q", m["sentiment"])
				}
				if _, err := time.Parse(time.RFC3339, m["submitted_at"]); err != nil {
					t.Errorf("submitted_at: %v", err)
				}
			}
			for _, text := range tricky {
				if !seen[text] {
					t.Errorf("comment %q missing or changed", text)
				}
			}
		})

		t.Run("Filters", func(t *testing.T) {
			cases := []struct {
				name string
				f    storage.ResponseFilter
				want int
			}{
				{"site", storage.ResponseFilter{Site: "north"}, 6},
				{"department", storage.ResponseFilter{Department: "cardiology"}, 1},
				{"survey", storage.ResponseFilter{Survey: "nps"}, 1},
				{"channel", storage.ResponseFilter{Channel: "kiosk"}, 0},
				{"day in zone", storage.ResponseFilter{FromDay: "2026-03-10", ToDay: "2026-03-10"}, len(tricky) + 2},
				{"day before", storage.ResponseFilter{ToDay: "2026-03-09"}, 0},
				{"day after", storage.ResponseFilter{FromDay: "2026-03-11"}, 0},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, rows, res := export_(t, st, export.Options{Filter: c.f, PageSize: 3})
					if res.Rows != c.want || len(rows)-1 != c.want {
						t.Errorf("got %d rows (parsed %d), want %d", res.Rows, len(rows)-1, c.want)
					}
				})
			}
		})
	})
}

func TestCell(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"fine", "fine"},
		{"=1+1", "'=1+1"},
		{"+44 20", "'+44 20"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"\nx", "'\nx"},
		{"a=b", "a=b"},
		{" =1", " =1"},
	}
	for _, c := range cases {
		if got := export.Cell(c.in); got != c.want {
			t.Errorf("Cell(%q): got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactedExport(t *testing.T) {
	st := storagetest.SQLite(t)
	f := newFixture(t, st)
	at := time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
	comments := []string{
		"Dr. Patel was lovely, call me on (555) 123-4567 or mail jo.bloggs@example.com",
		"Ring 07700 900123 or +44 20 7946 0958 about my visit on 12/03/2026",
		"Nurse Sarah Jones explained everything on March 3, 2026",
		"Dr. visit at 10:30 went well",
	}
	for _, c := range comments {
		f.submit("north", "fft", "", at, map[string]any{"q1": 1, "q2": c}, nil)
	}
	for _, format := range []string{export.FormatResponses, export.FormatComments} {
		t.Run(format, func(t *testing.T) {
			raw, _, res := export_(t, st, export.Options{Format: format, Redact: true})
			for _, leak := range []string{"Patel", "123-4567", "jo.bloggs", "example.com", "07700", "7946", "12/03/2026", "Sarah", "Jones", "March 3"} {
				if strings.Contains(raw, leak) {
					t.Errorf("%q survived redaction", leak)
				}
			}
			for _, keep := range []string{"10:30", "Dr. visit at", "[phone]", "[email]", "[date]", "[name]"} {
				if !strings.Contains(raw, keep) {
					t.Errorf("%q missing from the redacted export", keep)
				}
			}
			m := res.Masks.Map()
			if m["phone"] < 3 || m["email"] != 1 || m["date"] < 2 || m["name"] < 2 {
				t.Errorf("mask counts: %v", m)
			}
		})
	}
	t.Run("Unredacted", func(t *testing.T) {
		raw, _, res := export_(t, st, export.Options{Format: export.FormatComments})
		if !strings.Contains(raw, "Patel") || res.Masks.Total() != 0 {
			t.Errorf("unredacted export changed the text (masks %v)", res.Masks.Map())
		}
	})
}

func TestContact(t *testing.T) {
	st := storagetest.SQLite(t)
	f := newFixture(t, st)
	at := time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
	id := f.submit("north", "fft", "", at, map[string]any{"q1": 4, "q3": "Please call"},
		&survey.Contact{OKToContact: true, Name: "=Ana López", Phone: "+1 555 0100", Email: "ana@example.org"})
	f.submit("north", "fft", "", at, map[string]any{"q1": 1}, nil)

	t.Run("NotAsked", func(t *testing.T) {
		raw, rows, _ := export_(t, st, export.Options{})
		for _, leak := range []string{"López", "555 0100", "ana@example.org"} {
			if strings.Contains(raw, leak) {
				t.Errorf("contact detail %q in an export that did not ask", leak)
			}
		}
		if byName(rows)[0]["contact_requested"] == "" {
			t.Error("contact_requested empty")
		}
	})
	t.Run("NoKeys", func(t *testing.T) {
		_, err := export.Write(context.Background(), st, io.Discard, export.Options{IncludeContact: true})
		if !errors.Is(err, export.ErrNoKeys) {
			t.Errorf("got %v, want ErrNoKeys", err)
		}
	})
	t.Run("Asked", func(t *testing.T) {
		_, rows, res := export_(t, st, export.Options{IncludeContact: true, Keys: f.keys})
		if res.Contacts != 1 || res.ContactErrors != 0 {
			t.Errorf("contacts %d, errors %d", res.Contacts, res.ContactErrors)
		}
		for _, m := range byName(rows) {
			if m["response_id"] == id {
				if m["contact_name"] != "'=Ana López" || m["contact_phone"] != "'+1 555 0100" || m["contact_email"] != "ana@example.org" || m["contact_ok"] != "yes" {
					t.Errorf("contact cells: %v", m)
				}
			} else if m["contact_name"] != "" || m["contact_ok"] != "" {
				t.Errorf("contact cells on a response without contact: %v", m)
			}
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		other, _ := secure.NewKeyring(secure.GenerateKey())
		_, _, res := export_(t, st, export.Options{IncludeContact: true, Keys: other})
		if res.Contacts != 0 || res.ContactErrors != 1 {
			t.Errorf("contacts %d, errors %d", res.Contacts, res.ContactErrors)
		}
	})
}

// failWriter fails once it has taken n bytes, like a client that hangs up.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("connection reset")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestStopsOnWriteErrorAndCancel(t *testing.T) {
	st := storagetest.SQLite(t)
	f := newFixture(t, st)
	at := time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("The wait was long and the room was cold. ", 40)
	for i := 0; i < 60; i++ {
		f.submit("north", "fft", "", at, map[string]any{"q1": 2, "q3": long}, nil)
	}
	res, err := export.Write(context.Background(), st, &failWriter{n: 70 << 10}, export.Options{PageSize: 10})
	if err == nil || res.Rows >= 60 {
		t.Errorf("write error: got rows %d, err %v; want an error before the end", res.Rows, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err = export.Write(ctx, st, io.Discard, export.Options{PageSize: 10})
	if !errors.Is(err, context.Canceled) || res.Rows != 0 {
		t.Errorf("cancelled: got rows %d, err %v", res.Rows, err)
	}
}

func TestColumnsAcrossVersions(t *testing.T) {
	v1 := survey.Survey{Slug: "s", Version: 1, Questions: []survey.Question{{ID: "a"}, {ID: "old"}, {ID: "b"}}}
	v2 := survey.Survey{Slug: "s", Version: 2, Questions: []survey.Question{{ID: "b"}, {ID: "a"}, {ID: "new"}}}
	other := survey.Survey{Slug: "r", Version: 1, Questions: []survey.Question{{ID: "q1"}}}
	got := strings.Join(export.Columns([]survey.Survey{v1, v2, other}), ",")
	if want := "r.q1,s.b,s.a,s.new,s.old"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

var _ = redact.Default
