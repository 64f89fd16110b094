package i18n

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNegotiate(t *testing.T) {
	b, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, explicit, accept, want string
	}{
		{"default", "", "", "en"},
		{"explicit wins over header", "es", "en-US,en;q=0.9", "es"},
		{"explicit english wins over spanish header", "en", "es-MX,es;q=0.9", "en"},
		{"unknown explicit falls to header", "xx", "es-ES", "es"},
		{"header region stripped", "", "es-MX", "es"},
		{"header order by weight", "", "fr;q=0.9,es;q=0.8,en;q=0.1", "es"},
		{"header q=0 refused", "", "es;q=0,en;q=0.5", "en"},
		{"header unknown only", "", "fr-FR,de;q=0.9", "en"},
		{"header junk", "", ";;,q=,es-;q=abc", "es"},
		{"upper case", "", "ES-es", "es"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Negotiate(tt.explicit, tt.accept); got != tt.want {
				t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.explicit, tt.accept, got, tt.want)
			}
		})
	}
}

// TestSpanishComplete reports every English string without a Spanish one:
// Spanish is a complete language, so any gap fails.
func TestSpanishComplete(t *testing.T) {
	b, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range b.Languages() {
		if missing := b.Missing(lang); len(missing) > 0 {
			t.Errorf("%s.json lacks %d strings that en.json has: %v", lang, len(missing), missing)
		}
	}
	if extra := extraKeys(b, "es"); len(extra) > 0 {
		t.Errorf("es.json has strings en.json does not (typos?): %v", extra)
	}
}

func extraKeys(b *Bundle, lang string) []string {
	var out []string
	for k := range b.msgs[lang] {
		if _, ok := b.msgs[Fallback][k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// TestClinicLanguage adds Polish from a folder, as a clinic would with
// CAREVOICE_LOCALES: its strings show, missing ones fall back to English
// and are reported.
func TestClinicLanguage(t *testing.T) {
	b, err := Load("testdata/locales")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Has("pl") || b.Name("pl") != "Polski" {
		t.Fatalf("pl not loaded: has=%v name=%q", b.Has("pl"), b.Name("pl"))
	}
	if got := b.Languages(); len(got) != 3 || got[0] != "en" {
		t.Errorf("Languages() = %v, want en first then es, pl", got)
	}
	if got, want := b.T("pl", "form.submit"), "Wyślij moje odpowiedzi"; got != want {
		t.Errorf("T(pl, form.submit) = %q, want %q", got, want)
	}
	if got, want := b.T("pl", "thanks.read"), b.T("en", "thanks.read"); got != want {
		t.Errorf("missing Polish string: got %q, want the English %q", got, want)
	}
	if got := b.Negotiate("", "pl-PL,pl;q=0.9,en;q=0.5"); got != "pl" {
		t.Errorf("Negotiate(pl-PL) = %q, want pl", got)
	}
	missing := b.Missing("pl")
	if len(missing) == 0 || len(missing) >= len(b.msgs[Fallback]) {
		t.Errorf("Missing(pl) = %d keys, want some but not all", len(missing))
	}
	t.Logf("pl.json (test file) lacks %d of %d strings; they show in English", len(missing), len(b.msgs[Fallback]))
	if got := b.T("pl", "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key = %q, want the key itself", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "de.json"), []byte(`{"form.submit": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load of a broken de.json: got no error")
	}
	// A folder that does not exist adds nothing; it is not an error for a
	// clinic that has not added a language.
	b, err := Load(filepath.Join(dir, "none"))
	if err != nil {
		t.Fatalf("Load(missing dir) = %v", err)
	}
	if b.Has("de") {
		t.Error("de loaded from a broken file")
	}
}
