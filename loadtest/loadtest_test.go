package loadtest

import (
	"encoding/json"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/carevoice/carevoice/survey"
)

// TestBodiesAreValid: every generated submission must pass the server's own
// validators, or the load test would measure refusals.
func TestBodiesAreValid(t *testing.T) {
	defs := map[string]*survey.Survey{}
	for _, d := range survey.Builtin() {
		d := d
		defs[d.Slug] = &d
	}
	w := &worker{cfg: &Config{}, rng: mrand.New(mrand.NewPCG(1, 2)),
		sites: []target{{Slug: "north", Departments: []string{"cardiology", "maternity"}}, {Slug: "main"}}}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for i := 0; i < 5000; i++ {
		id := w.uuid()
		if seen[id] {
			t.Fatalf("id %s generated twice", id)
		}
		seen[id] = true
		if id[14] != '7' {
			t.Fatalf("id %s is not a UUIDv7 like our forms' ids", id)
		}
		body := w.build(nil, id)
		var sub survey.Submission
		if err := json.Unmarshal(body, &sub); err != nil {
			t.Fatalf("body %s: %v", body, err)
		}
		if f := sub.ValidateEnvelope(); len(f) > 0 {
			t.Fatalf("body %s: envelope %v", body, f)
		}
		def := defs[sub.Survey]
		if def == nil {
			t.Fatalf("unknown survey in %s", body)
		}
		if _, f := survey.ValidateAnswers(def, sub.Answers); len(f) > 0 {
			t.Fatalf("body %s: answers %v", body, f)
		}
		kinds[sub.Survey+"/"+sub.Lang]++
	}
	for _, k := range []string{"fft/en", "fft/es", "nps/en", "nps/es", "suggestion/en", "suggestion/es"} {
		if kinds[k] == 0 {
			t.Errorf("no %s submission in 5000: the mix is not realistic", k)
		}
	}
}

func TestResult(t *testing.T) {
	rep := &Report{Acked: make([]string, 1000), Sent: 1010, Errors: 3, Elapsed: 2 * time.Second}
	for i := 1; i <= 100; i++ {
		rep.latencies = append(rep.latencies, uint32(i*1000)) // 1..100 ms
	}
	got := rep.Result(999, 1, 0)
	want := Result{Sent: 1010, Acked: 1000, Stored: 999, Lost: 1, RPS: 500, P50: 51, P99: 100, Errors: 3}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
