package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestUserAddSites: `user add` refuses a manager without sites (an empty
// list once meant every site), unknown sites, and sites on a role that sees
// every site; a manager of existing sites is made with them.
func TestUserAddSites(t *testing.T) {
	db := filepath.Join(t.TempDir(), "carevoice.db")
	for _, tc := range []struct {
		name string
		args []string
		err  string // "" = created
	}{
		{"manager without sites", []string{"--email", "m1@example.org", "--role", "manager"}, "a manager needs --sites"},
		{"manager with blank sites", []string{"--email", "m1@example.org", "--role", "manager", "--sites", " , "}, "a manager needs --sites"},
		{"manager of an unknown site", []string{"--email", "m1@example.org", "--role", "manager", "--sites", "main,nowhere"}, `there is no site "nowhere"`},
		{"quality with sites", []string{"--email", "q1@example.org", "--role", "quality", "--sites", "main"}, "--sites only goes with --role manager"},
		{"manager of main", []string{"--email", "m2@example.org", "--role", "manager", "--sites", "main, main"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cmdUser(append([]string{"add", "--db", db, "--database-url", "", "--password", "plum lantern orbit velvet"}, tc.args...))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("got %v, want the account made", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("got %v, want an error saying %q", err, tc.err)
			}
		})
	}
	st, err := storage.Open(context.Background(), storage.Config{SQLitePath: db, Logger: storagetest.Quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].Email != "m2@example.org" || us[0].Sites != "main" {
		t.Errorf("accounts %+v, want only m2 as manager of main", us)
	}
}
