package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/carevoice/carevoice/cases"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// formData is what the survey form template shows.
type formData struct {
	Survey      *survey.Survey
	Action      string
	ID          string
	Hidden      map[string]string
	Values      map[string][]string
	Errors      map[string]string
	Contact     survey.Contact
	AskContact  bool
	Intro       string
	Notice      string
	IdleSeconds int
	YouSaid     []string
	// Promise tells a patient who asks to be contacted when that will be.
	Promise string
}

type thanksData struct {
	WantsContact bool
	Promise      string // when we will contact them, by the site's rule
	Again        string
	ResetSeconds int
	YouSaid      []string
}

// patientPage marks a page as holding a patient's answers: never cached,
// never stored by the browser, never framed.
func patientPage(c *fiber.Ctx) {
	c.Set("Cache-Control", "no-store, max-age=0")
	c.Set("Pragma", "no-cache")
}

func (s *Server) lang(c *fiber.Ctx) string {
	explicit := c.Query("lang")
	if explicit == "" && c.Method() == fiber.MethodPost {
		explicit = c.FormValue("lang")
	}
	return s.i18n.Negotiate(explicit, c.Get(fiber.HeaderAcceptLanguage))
}

// surveyTarget is where a form's answers go: which survey, site and channel.
type surveyTarget struct {
	survey     string
	site       string
	department string
	provider   string
	channel    string
	token      string
	action     string // form action URL
	again      string // URL of a fresh form
	kiosk      bool
}

// showForm renders the survey form for a target.
func (s *Server) showForm(c *fiber.Ctx, t surveyTarget, status int, prev *formData) error {
	patientPage(c)
	lang := s.lang(c)
	ctx := c.UserContext()
	def, err := s.survey(ctx, t.survey)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errStatus(fiber.StatusNotFound, "unknown survey")
		}
		return err
	}
	if _, err := s.site(ctx, t.site); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errStatus(fiber.StatusNotFound, "unknown site")
		}
		return err
	}
	d := prev
	if d == nil {
		// The id is made here, so that pressing Send twice, or the browser
		// re-posting, stores one response.
		d = &formData{ID: newResponseID(), Values: map[string][]string{}}
	}
	d.Survey, d.Action = def, t.action
	d.Hidden = map[string]string{}
	if !t.kiosk && t.channel != survey.ChannelInvite {
		d.Hidden["site"] = t.site
		if t.department != "" {
			d.Hidden["department"] = t.department
		}
		if t.provider != "" {
			d.Hidden["provider"] = t.provider
		}
	}
	// Every channel may ask to be contacted: a patient at a kiosk has as
	// much right to a call-back as one answering a text message.
	d.AskContact = true
	d.Intro = s.i18n.T(lang, "form.intro")
	if t.channel == survey.ChannelSuggestion {
		d.Intro = s.i18n.T(lang, "suggest.intro")
	}
	if t.kiosk {
		d.IdleSeconds = int(s.cfg.KioskIdle.Seconds())
		d.Promise = s.contactPromise(ctx, t.site, lang) // the kiosk's own thank-you panel
	}
	d.YouSaid = s.youSaid(c, t.site, lang)
	p := s.page(c, lang, textIn(def.Title, lang), d)
	p.Kiosk = t.kiosk
	p.Langs = s.formLangs(t, lang)
	return s.render(c, status, "form", p)
}

// formLangs points the language switch at a fresh form for the same target:
// after a POST the request path alone has lost the site (and, for a kiosk,
// the survey), so the page's own URL would lead nowhere.
func (s *Server) formLangs(t surveyTarget, current string) []LangLink {
	base, query, _ := strings.Cut(t.again, "?")
	var out []LangLink
	for _, l := range s.i18n.Languages() {
		q, _ := url.ParseQuery(query)
		q.Set("lang", l)
		out = append(out, LangLink{Code: l, Name: s.i18n.Name(l), URL: base + "?" + q.Encode(), Current: l == current})
	}
	return out
}

// youSaid returns the site's latest published "You said, we did" actions.
// The follow-up feature fills it in; until then there are none.
func (s *Server) youSaid(c *fiber.Ctx, site, lang string) []string {
	return s.publishedActions(c, site, lang)
}

// formSubmission turns a posted form into the same Submission the JSON API takes.
func formSubmission(c *fiber.Ctx, def *survey.Survey, t surveyTarget, lang string) (*survey.Submission, *formData) {
	sub := &survey.Submission{ID: c.FormValue("id"), Survey: t.survey, Site: t.site, Department: t.department,
		Provider: t.provider, Channel: t.channel, Token: t.token, Lang: lang}
	d := &formData{ID: sub.ID, Values: map[string][]string{}}
	args := c.Request().PostArgs()
	for _, q := range def.Questions {
		var vals []string
		for _, v := range args.PeekMulti("a." + q.ID) {
			vals = append(vals, string(v))
		}
		// The validator sees the bytes as sent; the page shown again
		// must stay valid UTF-8 whatever the browser posted.
		d.Values[q.ID] = validUTF8(vals...)
		var raw []byte
		switch {
		case len(vals) == 0:
			continue
		case q.Type == survey.TypeMulti:
			raw, _ = json.Marshal(vals)
		case q.Type == survey.TypeRating5 || q.Type == survey.TypeNPS:
			if _, err := strconv.Atoi(vals[0]); err == nil {
				raw = []byte(vals[0])
			} else {
				raw, _ = json.Marshal(vals[0])
			}
		default:
			raw, _ = json.Marshal(vals[0])
			if !utf8Valid([]byte(vals[0])) {
				raw = []byte{'"', 0xff, '"'} // let the validator say so
			}
		}
		sub.Answers = append(sub.Answers, survey.Answer{Question: q.ID, Value: raw})
	}
	ct := survey.Contact{OKToContact: c.FormValue("contact_ok") != "", Name: strings.TrimSpace(c.FormValue("contact_name")),
		Phone: strings.TrimSpace(c.FormValue("contact_phone")), Email: strings.TrimSpace(c.FormValue("contact_email"))}
	d.Contact = ct
	shown := validUTF8(ct.Name, ct.Phone, ct.Email)
	d.Contact.Name, d.Contact.Phone, d.Contact.Email = shown[0], shown[1], shown[2]
	if !ct.Empty() {
		sub.Contact = &ct
	}
	return sub, d
}

var answerPath = regexp.MustCompile(`^answers\[(\d+)\]\.(value|question)$`)

// postForm validates and stores a posted form, answering with the thank-you
// page, or the form again with messages beside the answers that need a look.
func (s *Server) postForm(c *fiber.Ctx, t surveyTarget) error {
	patientPage(c)
	lang := s.lang(c)
	def, err := s.survey(c.UserContext(), t.survey)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errStatus(fiber.StatusNotFound, "unknown survey")
		}
		return err
	}
	sub, d := formSubmission(c, def, t, lang)
	if !survey.ValidID(sub.ID) {
		sub.ID = newResponseID() // a form from an old page; still one response per post
		d.ID = sub.ID
	}
	out, err := s.submit(c.UserContext(), principal(c), sub)
	var e *Error
	if errors.As(err, &e) && e.Status == fiber.StatusBadRequest {
		d.Errors = map[string]string{}
		for k, v := range e.Fields {
			if m := answerPath.FindStringSubmatch(k); m != nil {
				i, _ := strconv.Atoi(m[1])
				if i < len(sub.Answers) {
					d.Errors[sub.Answers[i].Question] = v
					continue
				}
			}
			if q, ok := strings.CutPrefix(k, "answers."); ok {
				d.Errors[q] = v
				continue
			}
			d.Errors[k] = v
		}
		// Required questions left blank are named by question id.
		// The validator speaks English; the patient reads their language.
		for k, v := range d.Errors {
			d.Errors[k] = s.i18n.Reason(lang, v)
		}
		return s.showForm(c, t, fiber.StatusBadRequest, d)
	}
	if errors.As(err, &e) && e.Status == fiber.StatusGone {
		return s.noticePage(c, fiber.StatusGone, lang, "invite.used")
	}
	if err != nil {
		return err
	}
	p := s.page(c, lang, s.i18n.T(lang, "thanks.title"),
		thanksData{WantsContact: out.wantsContact, Promise: s.contactPromise(c.UserContext(), t.site, lang), Again: t.again, ResetSeconds: 10, YouSaid: s.youSaid(c, t.site, lang)})
	p.Kiosk = t.kiosk
	p.Langs = s.formLangs(t, lang)
	return s.render(c, fiber.StatusOK, "thanks", p)
}

func (s *Server) noticePage(c *fiber.Ctx, status int, lang, key string) error {
	patientPage(c)
	return s.render(c, status, "notice", s.page(c, lang, s.i18n.T(lang, key+".title"), s.i18n.T(lang, key+".body")))
}

func linkTarget(c *fiber.Ctx, get func(string) string) surveyTarget {
	slug := strings.Clone(c.Params("survey"))
	t := surveyTarget{survey: slug, site: get("site"), department: get("department"), provider: get("provider"), channel: survey.ChannelLink}
	if t.department == "" {
		t.department = get("dept")
	}
	q := url.Values{"site": {t.site}}
	if t.department != "" {
		q.Set("dept", t.department)
	}
	if t.provider != "" {
		q.Set("provider", t.provider)
	}
	t.action = "/f/" + url.PathEscape(slug)
	t.again = t.action + "?" + q.Encode()
	return t
}

// linkForm is GET /f/{survey}?site=…: the public link and QR poster.
func (s *Server) linkForm(c *fiber.Ctx) error {
	t := linkTarget(c, func(k string) string { return c.Query(k) })
	if t.site == "" {
		return errStatus(fiber.StatusNotFound, "no site given")
	}
	return s.showForm(c, t, fiber.StatusOK, nil)
}

func (s *Server) linkSubmit(c *fiber.Ctx) error {
	t := linkTarget(c, func(k string) string { return c.FormValue(k) })
	return s.postForm(c, t)
}

// inviteTarget looks up an invitation; a used, expired or unknown one is
// answered with a kind page.
func (s *Server) inviteTarget(c *fiber.Ctx) (surveyTarget, error) {
	token := strings.Clone(c.Params("token"))
	lang := s.lang(c)
	inv, err := s.store.InvitationByHash(c.UserContext(), secure.HashToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return surveyTarget{}, s.noticePage(c, fiber.StatusNotFound, lang, "invite.unknown")
	}
	if err != nil {
		return surveyTarget{}, err
	}
	if inv.UsedAt != nil {
		return surveyTarget{}, s.noticePage(c, fiber.StatusGone, lang, "invite.used")
	}
	if !inv.Usable(s.now()) {
		return surveyTarget{}, s.noticePage(c, fiber.StatusGone, lang, "invite.expired")
	}
	action := "/s/" + url.PathEscape(token)
	return surveyTarget{survey: inv.Survey, site: inv.Site, department: inv.Department, provider: inv.Provider,
		channel: survey.ChannelInvite, token: token, action: action, again: action}, nil
}

func (s *Server) inviteForm(c *fiber.Ctx) error {
	t, err := s.inviteTarget(c)
	if t.survey == "" {
		return err
	}
	return s.showForm(c, t, fiber.StatusOK, nil)
}

func (s *Server) inviteSubmit(c *fiber.Ctx) error {
	t, err := s.inviteTarget(c)
	if t.survey == "" {
		return err
	}
	return s.postForm(c, t)
}

// kioskTarget resolves a kiosk key from the path; the key authenticates the
// tablet as if sent in X-Kiosk-Key.
func (s *Server) kioskTarget(c *fiber.Ctx) (surveyTarget, error) {
	key := strings.Clone(c.Params("key"))
	d, err := s.store.DeviceByKeyHash(c.UserContext(), secure.HashToken(key))
	if errors.Is(err, storage.ErrNotFound) {
		return surveyTarget{}, errStatus(fiber.StatusNotFound, "unknown kiosk")
	}
	if err != nil {
		return surveyTarget{}, err
	}
	c.Locals("principal", &Principal{Kind: "kiosk", Device: d})
	slug := c.Query("survey", "fft")
	if !survey.ValidSlug(slug) {
		slug = "fft"
	}
	action := "/kiosk/" + url.PathEscape(key)
	if slug != "fft" {
		action += "?survey=" + url.QueryEscape(slug)
	}
	return surveyTarget{survey: slug, site: d.Site, channel: survey.ChannelKiosk, action: action, again: action, kiosk: true}, nil
}

func (s *Server) kioskForm(c *fiber.Ctx) error {
	t, err := s.kioskTarget(c)
	if err != nil {
		return err
	}
	c.Set("X-Robots-Tag", "noindex")
	var prev *formData
	if c.Query("reset") != "" {
		prev = &formData{ID: newResponseID(), Values: map[string][]string{}, Notice: s.i18n.T(s.lang(c), "kiosk.reset")}
	}
	return s.showForm(c, t, fiber.StatusOK, prev)
}

func (s *Server) kioskSubmit(c *fiber.Ctx) error {
	t, err := s.kioskTarget(c)
	if err != nil {
		return err
	}
	return s.postForm(c, t)
}

func suggestTarget(c *fiber.Ctx) surveyTarget {
	site := strings.Clone(c.Params("site"))
	action := "/suggest/" + url.PathEscape(site)
	return surveyTarget{survey: "suggestion", site: site, channel: survey.ChannelSuggestion, action: action, again: action}
}

func (s *Server) suggestForm(c *fiber.Ctx) error {
	return s.showForm(c, suggestTarget(c), fiber.StatusOK, nil)
}

func (s *Server) suggestSubmit(c *fiber.Ctx) error { return s.postForm(c, suggestTarget(c)) }

// validUTF8 replaces invalid bytes so that a page can show what was posted.
func validUTF8(vs ...string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return out
}

// newResponseID makes the id (the idempotency key) of a response whose form
// we render: a UUIDv7, whose first 48 bits are the time, so that new ids go
// to the end of the responses' unique index instead of to a random page of
// it (with a random id every submission dirties one more page of that index,
// written to the WAL at its commit; see BENCHMARKS.md, issue 6).
func newResponseID() string { return uuid.Must(uuid.NewV7()).String() }

// contactPromise is the thank-you line for a patient who asked to be
// contacted, with the site's own deadline for the first contact (its case
// rules, which a manager can change), so that we never promise a day the
// clinic doesn't keep.
func (s *Server) contactPromise(ctx context.Context, site, lang string) string {
	rules, err := s.caseRules(ctx, site)
	if err != nil {
		rules = cases.DefaultRules() // what caseFor falls back to as well
	}
	key := "thanks.contact"
	if rules.DueWorkingDays == 1 {
		key = "thanks.contact.one"
	}
	return strings.ReplaceAll(s.i18n.T(lang, key), "{days}", strconv.Itoa(rules.DueWorkingDays))
}
