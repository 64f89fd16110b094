package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/carevoice/carevoice/api"
)

// acceptLanguage makes the tab send an Accept-Language header, as a phone
// set to that language does.
func acceptLanguage(t testing.TB, ctx context.Context, v string) {
	t.Helper()
	do(t, ctx, "Accept-Language", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": v}})
		return err
	}))
}

func pageLang(t testing.TB, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.documentElement.lang`)
}

// englishStrings are the English texts that a Spanish page must not show
// (those that differ from their Spanish translation).
func englishStrings(t testing.TB) []string {
	t.Helper()
	read := func(lang string) map[string]string {
		b, err := os.ReadFile("../i18n/locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	en, es := read("en"), read("es")
	var out []string
	for k, v := range en {
		if k != "language.name" && es[k] != v && len(v) > 3 {
			out = append(out, v)
		}
	}
	return out
}

// TestLanguages: the language comes from ?lang=, then Accept-Language, then
// the switch on the page; Spanish pages show no English; the response
// stores its language.
func TestLanguages(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour})
	english := englishStrings(t)
	noEnglish := func(t *testing.T, ctx context.Context, page string) {
		t.Helper()
		body := eval[string](t, ctx, `document.body.innerText + " " + document.title`)
		for _, s := range english {
			if strings.Contains(body, s) {
				t.Errorf("%s in Spanish shows English %q", page, s)
			}
		}
	}

	t.Run("accept-language", func(t *testing.T) {
		ctx := tab(t)
		acceptLanguage(t, ctx, "es-MX,es;q=0.9,en;q=0.5")
		open(t, ctx, a.URL+"/f/fft?site=main")
		if l := pageLang(t, ctx); l != "es" {
			t.Fatalf("Accept-Language es-MX: page lang %q, want es", l)
		}
		noEnglish(t, ctx, "fft form")
		// An explicit choice wins over the phone's language.
		open(t, ctx, a.URL+"/f/fft?site=main&lang=en")
		if l := pageLang(t, ctx); l != "en" {
			t.Errorf("?lang=en with Accept-Language es: page lang %q, want en", l)
		}
		// The switch on the page.
		do(t, ctx, "switch", chromedp.Click(chromedp.CSS(`nav.langs a[lang=es]`)))
		waitFor(t, ctx, "Spanish page", `document.documentElement.lang === "es" && document.readyState === "complete"`)
		id := state(t, ctx).ID
		pick(t, ctx, "a-q1-1")
		do(t, ctx, "type", chromedp.SendKeys(chromedp.ID("a-q2"), "Todo muy bien."))
		submitAndWait(t, ctx, "a.button")
		noEnglish(t, ctx, "thank-you page")
		if r := a.response(id); r.Lang != "es" {
			t.Errorf("stored lang %q, want es", r.Lang)
		}
	})

	t.Run("spanish-pages", func(t *testing.T) {
		ctx := tab(t)
		for _, path := range []string{"/f/nps?site=main&lang=es", "/suggest/main?lang=es", "/s/" + a.invitation("fft", "main", -time.Hour) + "?lang=es",
			"/s/unknown?lang=es", "/f/nope?site=main&lang=es", "/kiosk/" + a.device("main") + "?lang=es&reset=1"} {
			open(t, ctx, a.URL+path)
			if l := pageLang(t, ctx); l != "es" {
				t.Errorf("%s: page lang %q, want es", path, l)
			}
			noEnglish(t, ctx, path)
		}
		// Messages beside wrong answers are in Spanish too.
		open(t, ctx, a.URL+"/f/fft?site=main&lang=es")
		do(t, ctx, "fill", chromedp.Click(chromedp.ID("contact_ok")), chromedp.SendKeys(chromedp.ID("contact_email"), "no es un correo"))
		submitAndWait(t, ctx, "#errors")
		noEnglish(t, ctx, "form with errors")
		for _, want := range []string{"Responda a esta pregunta.", "Revise el correo electrónico"} {
			if body := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(body, want) {
				t.Errorf("form with errors lacks %q", want)
			}
		}
	})
}

// TestClinicLanguage adds Polish from a folder (CAREVOICE_LOCALES) without
// code: the page speaks Polish where pl.json has a string, English where
// it does not, and offers Polski in the switch.
func TestClinicLanguage(t *testing.T) {
	t.Parallel()
	a := startApp(t, api.Config{KioskIdle: time.Hour, LocalesDir: "testdata/locales"})
	// The clinic's admin gives the survey Polish text through the API.
	def := a.api("GET", "/api/v1/surveys/fft", nil)
	def["title"].(map[string]any)["pl"] = "Opowiedz nam o swojej wizycie"
	def["questions"].([]any)[0].(map[string]any)["text"].(map[string]any)["pl"] = "Jak ogólnie oceniasz naszą usługę?"
	a.api("PUT", "/api/v1/surveys/fft", def)

	ctx := tab(t)
	acceptLanguage(t, ctx, "pl-PL,pl;q=0.9")
	open(t, ctx, a.URL+"/f/fft?site=main")
	if l := pageLang(t, ctx); l != "pl" {
		t.Fatalf("Accept-Language pl: page lang %q, want pl", l)
	}
	body := eval[string](t, ctx, `document.body.innerText`)
	for _, want := range []string{"Opowiedz nam o swojej wizycie", "Jak ogólnie oceniasz naszą usługę?", "What went well?", "Wyślij moje odpowiedzi", "Twoje odpowiedzi pomagają", "Bardzo dobrze", "Polski", "Español",
		"Neither good nor poor" /* no Polish string: English */} {
		if !strings.Contains(body, want) {
			t.Errorf("Polish page lacks %q", want)
		}
	}
	id := state(t, ctx).ID
	pick(t, ctx, "a-q1-2")
	submitAndWait(t, ctx, "a.button")
	if h := eval[string](t, ctx, `document.querySelector("h1").innerText`); h != "Dziękujemy" {
		t.Errorf("Polish thank-you title %q, want Dziękujemy", h)
	}
	if r := a.response(id); r.Lang != "pl" {
		t.Errorf("stored lang %q, want pl", r.Lang)
	}
}
