package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestAlertRecipients: managers of the site receive its alerts, admins
// when asked; a manager without sites (an account from before sites were
// required, when an empty list meant every site) receives none, not even
// the digest that covers every site's managers.
func TestAlertRecipients(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		for _, u := range []struct{ email, role, sites string }{
			{"nora@example.org", storage.RoleManager, "north"},
			{"both@example.org", storage.RoleManager, "north,south"},
			{"sam@example.org", storage.RoleManager, "south"},
			{"sid@example.org", storage.RoleManager, ""},
			{"ada@example.org", storage.RoleAdmin, ""},
			{"quinn@example.org", storage.RoleQuality, ""},
		} {
			storagetest.CreateUser(t, s, u.email, u.role, storage.SplitList(u.sites)...)
		}
		for _, tc := range []struct {
			site       string
			withAdmins bool
			want       string // emails, sorted, with their sites
		}{
			{"north", false, "both@example.org:north,south nora@example.org:north"},
			{"north", true, "ada@example.org: both@example.org:north,south nora@example.org:north"},
			{"", false, "both@example.org:north,south nora@example.org:north sam@example.org:south"},
			{"elsewhere", false, ""},
		} {
			rs, err := s.AlertRecipients(ctx, tc.site, tc.withAdmins)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rs {
				got = append(got, r.Email+":"+strings.Join(r.Sites, ","))
			}
			slices.Sort(got)
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("AlertRecipients(%q, %v) = %q, want %q", tc.site, tc.withAdmins, g, tc.want)
			}
		}
	})
}
