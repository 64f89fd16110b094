package api

import (
	"testing"

	"github.com/google/uuid"

	"github.com/carevoice/carevoice/survey"
)

// Response ids made for our forms are UUIDv7 in time order, so that they
// land at the end of the responses' unique index.
func TestNewResponseIDIsTimeOrdered(t *testing.T) {
	prev := ""
	for i := 0; i < 1000; i++ {
		id := newResponseID()
		if !survey.ValidID(id) {
			t.Fatalf("%q is not a valid response id", id)
		}
		if v := uuid.MustParse(id).Version(); v != 7 {
			t.Fatalf("%q: version %d, want 7", id, v)
		}
		if id <= prev {
			t.Fatalf("%q made after %q sorts before it", id, prev)
		}
		prev = id
	}
}
