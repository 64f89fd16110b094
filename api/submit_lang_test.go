package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/carevoice/carevoice/api/apitest"
)

// TestAPISubmitLanguage: a JSON submission without "lang" stores the
// language the patient's device asks for; an explicit lang wins.
func TestAPISubmitLanguage(t *testing.T) {
	e := apitest.New(t)
	cases := []struct {
		name, id, lang, accept, want string
	}{
		{"accept-language", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0b01", "", "es-MX,es;q=0.9,en;q=0.5", "es"},
		{"explicit wins", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0b02", `"lang":"en",`, "es", "en"},
		{"unknown language falls back", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0b03", "", "ja", "en"},
		{"nothing said", "0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0b04", "", "", "en"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := e.Anon()
			if c.accept != "" {
				cl.Header = http.Header{"Accept-Language": {c.accept}}
			}
			body := `{"id":"` + c.id + `","survey":"fft","site":"main","channel":"link",` + c.lang +
				`"answers":[{"question":"q1","value":1}]}`
			if r := cl.JSON("POST", "/api/v1/responses", body); r.StatusCode != 201 {
				t.Fatalf("got %d %s, want 201", r.StatusCode, r.Body)
			}
			got, err := e.Store.ResponseByID(context.Background(), c.id)
			if err != nil {
				t.Fatal(err)
			}
			if got.Lang != c.want {
				t.Errorf("stored lang %q, want %q", got.Lang, c.want)
			}
		})
	}
}
