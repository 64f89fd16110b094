package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/carevoice/carevoice/intake"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/survey"
)

// receipt is the JSON answer to a submission; a retry gets the same body.
type receipt struct {
	ID          string `json:"id"`
	SubmittedAt string `json:"submitted_at"`
}

// submitted is what submit reports back to the API or the page.
type submitted struct {
	status       int
	receipt      receipt
	wantsContact bool
	site         *storage.Site
}

// submit validates and stores one submission: the single path shared by the
// JSON API and every HTML form. It returns an *Error for anything refused;
// nothing is stored unless the whole submission is valid.
func (s *Server) submit(ctx context.Context, p *Principal, sub *survey.Submission) (*submitted, error) {
	if p.Kind == "kiosk" {
		// A kiosk speaks for its own site only; what it omits is filled in.
		if sub.Site == "" {
			sub.Site = p.Device.Site
		}
		if sub.Channel == "" {
			sub.Channel = survey.ChannelKiosk
		}
		if sub.Site != p.Device.Site {
			return nil, &Error{Status: fiber.StatusForbidden, Message: "this kiosk may only submit for its own site",
				Fields: map[string]string{"site": "is not this kiosk's site"}}
		}
	}
	fields := sub.ValidateEnvelope()
	switch {
	case p.Kind == "kiosk" && sub.Channel != survey.ChannelKiosk && fields["channel"] == "":
		fields["channel"] = "must be kiosk when sent with a kiosk key"
	case p.Kind != "kiosk" && sub.Channel == survey.ChannelKiosk:
		fields["channel"] = "kiosk submissions need the kiosk's key"
	}
	// Look up what the envelope names, so that one answer reports every
	// problem at once; an unknown survey or site is a 404 whatever else is wrong.
	var def *survey.Survey
	var site *storage.Site
	var err error
	if _, bad := fields["survey"]; !bad {
		def, err = s.survey(ctx, sub.Survey)
		if errors.Is(err, storage.ErrNotFound) {
			fields["survey"] = "unknown survey"
			return nil, &Error{Status: fiber.StatusNotFound, Message: "unknown survey", Fields: fields}
		} else if err != nil {
			return nil, err
		}
	}
	if _, bad := fields["site"]; !bad {
		site, err = s.site(ctx, sub.Site)
		if errors.Is(err, storage.ErrNotFound) {
			fields["site"] = "unknown site"
			return nil, &Error{Status: fiber.StatusNotFound, Message: "unknown site", Fields: fields}
		} else if err != nil {
			return nil, err
		}
	}
	// An invitation was made for one visit: its department and provider
	// win over whatever the body says. Whether it is still unused is
	// decided in the storing transaction, so an identical retry of an
	// answered invitation still gets its first answer back.
	var inv *storage.Invitation
	if sub.Channel == survey.ChannelInvite && sub.Token != "" {
		inv, err = s.store.InvitationByHash(ctx, secure.HashToken(sub.Token))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return nil, &Error{Status: fiber.StatusGone, Message: "unknown, used or expired invitation", Fields: map[string]string{"token": "is not a valid invitation"}}
		case err != nil:
			return nil, err
		case (def != nil && inv.Survey != def.Slug) || (site != nil && inv.Site != site.Slug):
			fields["token"] = "belongs to another survey or site"
		default:
			sub.Department, sub.Provider = inv.Department, inv.Provider
		}
	}
	if site != nil {
		if sub.Department != "" && !site.HasDepartment(sub.Department) && fields["department"] == "" {
			fields["department"] = "is not a department of this site"
		}
		if sub.Provider != "" && !site.HasProvider(sub.Provider) && fields["provider"] == "" {
			fields["provider"] = "is not a provider of this site"
		}
	}
	var answers []survey.Parsed
	if def != nil {
		var afields map[string]string
		answers, afields = survey.ValidateAnswers(def, sub.Answers)
		for k, v := range afields {
			fields[k] = v
		}
	}
	if len(fields) > 0 {
		return nil, errInvalid(fields)
	}

	analyzeStart := time.Now()
	r, err := intake.Build(def, site, sub, answers, s.analyzer, s.keys, s.now())
	if err != nil {
		return nil, err
	}
	s.metrics.observeAnalyzer(time.Since(analyzeStart))
	if p.Kind == "kiosk" {
		r.DeviceID = p.Device.ID
	}
	if inv != nil {
		r.InvitationHash = inv.TokenHash
	}
	r.Case = s.caseFor(ctx, site, r)
	rec, err := s.store.SubmitResponse(ctx, r)
	switch {
	case errors.Is(err, storage.ErrInvitationUsed):
		return nil, &Error{Status: fiber.StatusGone, Message: "this invitation has already been used or has expired", Fields: map[string]string{"token": "used or expired"}}
	case errors.Is(err, storage.ErrBusy), errors.Is(err, storage.ErrClosed):
		return nil, errStatus(fiber.StatusServiceUnavailable, "busy, try again shortly")
	case err != nil:
		return nil, err
	}
	out := &submitted{receipt: receipt{ID: rec.ID, SubmittedAt: rec.SubmittedAt.In(site.Location()).Format(time.RFC3339)},
		wantsContact: r.WantsContact, site: site}
	switch rec.Outcome {
	case storage.Created:
		out.status = fiber.StatusCreated
		s.metrics.observeSubmission(sub.Channel)
		s.afterSubmit(r, rec)
	case storage.Duplicate:
		out.status = fiber.StatusOK
	default:
		return nil, &Error{Status: fiber.StatusConflict, Message: "a different response with this id already exists", Fields: map[string]string{"id": "already used for a different response"}}
	}
	return out, nil
}

// apiSubmit is POST /api/v1/responses.
func (s *Server) apiSubmit(c *fiber.Ctx) error {
	var sub survey.Submission
	if err := decodeSubmission(c.Body(), &sub); err != nil {
		return err
	}
	if sub.Lang == "" {
		// A client that does not say which language the patient used gets
		// the one the patient's device asks for, as the pages do.
		sub.Lang = s.i18n.Negotiate("", c.Get(fiber.HeaderAcceptLanguage))
	}
	out, err := s.submit(c.UserContext(), principal(c), &sub)
	if err != nil {
		return err
	}
	return c.Status(out.status).JSON(out.receipt)
}

// decodeSubmission decodes a response body. Invalid UTF-8 is refused as
// decodeJSON does, but named at the answer that carries it when it is there,
// so a patient's app can point at the field.
func decodeSubmission(body []byte, sub *survey.Submission) error {
	err := decodeJSON(body, sub)
	var e *Error
	if !errors.As(err, &e) || e.Fields["body"] != "is not valid UTF-8" {
		return err
	}
	// encoding/json replaces invalid bytes in strings but keeps a
	// RawMessage as sent, so the answers still show where they were.
	var probe survey.Submission
	if json.Unmarshal(body, &probe) != nil {
		return err
	}
	f := map[string]string{}
	for i, a := range probe.Answers {
		if !utf8Valid(a.Value) {
			f[fmt.Sprintf("answers[%d].value", i)] = "is not valid UTF-8"
		}
	}
	if len(f) == 0 {
		return err
	}
	return errInvalid(f)
}

// decodeJSON decodes a request body strictly, with a field-level message.
func decodeJSON(body []byte, v any) error {
	if !utf8Valid(body) {
		return errInvalid(map[string]string{"body": "is not valid UTF-8"})
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errInvalid(map[string]string{te.Field: "has the wrong type"})
		}
		return errInvalid(map[string]string{"body": "is not valid JSON"})
	}
	return nil
}
