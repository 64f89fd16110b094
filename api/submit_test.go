package api_test

import (
	"testing"

	"github.com/carevoice/carevoice/api/apitest"
)

func TestSubmitRoundTrip(t *testing.T) {
	e := apitest.New(t)
	body := `{"id":"0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01","survey":"fft","site":"main","channel":"link",
		"answers":[{"question":"q1","value":2},{"question":"q3","value":"The wait was long"}]}`
	first := e.Anon().JSON("POST", "/api/v1/responses", body)
	if first.StatusCode != 201 {
		t.Fatalf("got %d %s, want 201", first.StatusCode, first.Body)
	}
	again := e.Anon().JSON("POST", "/api/v1/responses", body)
	if again.StatusCode != 200 || again.Body != first.Body {
		t.Fatalf("retry: got %d %s, want 200 %s", again.StatusCode, again.Body, first.Body)
	}
	got := e.Token("quality").Get("/api/v1/responses/0b7f6a52-6a0e-4a8e-9d55-1f0f3c0d0a01")
	if got.StatusCode != 200 {
		t.Fatalf("get: got %d %s", got.StatusCode, got.Body)
	}
}
