// Package i18n holds the patient-facing strings in every language. Strings
// live in JSON files, one per language, so a clinic can add a language by
// dropping a file (say pl.json) into its locales folder without touching code.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed locales/*.json
var builtin embed.FS

// Fallback is the language every missing string falls back to.
const Fallback = "en"

// Bundle is a read-only set of translations, safe for concurrent use.
type Bundle struct {
	msgs  map[string]map[string]string // lang → key → text
	names map[string]string            // lang → its own name, for the switcher
}

// Load reads the built-in languages and, when dir is non-empty, every
// *.json file in dir (which adds languages or overrides strings).
func Load(dir string) (*Bundle, error) {
	b := &Bundle{msgs: map[string]map[string]string{}, names: map[string]string{}}
	ents, err := builtin.ReadDir("locales")
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		data, err := builtin.ReadFile("locales/" + e.Name())
		if err != nil {
			return nil, err
		}
		if err := b.add(strings.TrimSuffix(e.Name(), ".json"), data); err != nil {
			return nil, err
		}
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			if err := b.add(strings.TrimSuffix(filepath.Base(f), ".json"), data); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := b.msgs[Fallback]; !ok {
		return nil, fmt.Errorf("i18n: no %s strings", Fallback)
	}
	return b, nil
}

func (b *Bundle) add(lang string, data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("i18n: %s.json: %w", lang, err)
	}
	if b.msgs[lang] == nil {
		b.msgs[lang] = map[string]string{}
	}
	for k, v := range m {
		b.msgs[lang][k] = v
	}
	if n := m["language.name"]; n != "" {
		b.names[lang] = n
	}
	return nil
}

// T returns the string for key in lang, falling back to English, then to the key.
func (b *Bundle) T(lang, key string) string {
	if s, ok := b.msgs[lang][key]; ok {
		return s
	}
	if s, ok := b.msgs[Fallback][key]; ok {
		return s
	}
	return key
}

// Has reports whether lang is a known language.
func (b *Bundle) Has(lang string) bool { _, ok := b.msgs[lang]; return ok }

// Languages lists the known languages, English first.
func (b *Bundle) Languages() []string {
	var ls []string
	for l := range b.msgs {
		if l != Fallback {
			ls = append(ls, l)
		}
	}
	sort.Strings(ls)
	return append([]string{Fallback}, ls...)
}

// Name is a language's name in itself ("Español").
func (b *Bundle) Name(lang string) string {
	if n := b.names[lang]; n != "" {
		return n
	}
	return lang
}

// Missing lists keys present in English but absent in lang.
func (b *Bundle) Missing(lang string) []string {
	var out []string
	for k := range b.msgs[Fallback] {
		if _, ok := b.msgs[lang][k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Negotiate picks the language: the explicit choice (query or switch) when
// known, then the first known language of an Accept-Language header, then English.
func (b *Bundle) Negotiate(explicit, acceptLanguage string) string {
	if explicit != "" && b.Has(explicit) {
		return explicit
	}
	type cand struct {
		lang string
		q    float64
	}
	var cs []cand
	for i, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0 - float64(i)*0.0001 // keep header order among equal weights
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			fmt.Sscanf(v, "%g", &q)
		}
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if base != "" && q > 0 {
			cs = append(cs, cand{base, q})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	for _, c := range cs {
		if b.Has(c.lang) {
			return c.lang
		}
	}
	return Fallback
}

// reasons maps the validator's English field messages (package survey) to
// patient-facing strings, so a form shows them in the patient's language.
var reasons = map[string]string{
	"is required":             "field.required",
	"is not a phone number":   "field.phone",
	"is not an email address": "field.email",
	"give a phone number or an email address so we can contact you": "field.contact",
	"is too long (200 characters at most)":                          "field.too_long",
}

// Reason translates a validation message for a form field; messages a
// patient's browser cannot cause (tampered values) read "please check".
func (b *Bundle) Reason(lang, reason string) string {
	if k, ok := reasons[reason]; ok {
		return b.T(lang, k)
	}
	return b.T(lang, "field.invalid")
}
