package storage

import (
	"errors"
	"testing"
)

// TestCheckRoleSites: the one rule the CLI, the token API and the Users
// page word for their users.
func TestCheckRoleSites(t *testing.T) {
	for _, tc := range []struct {
		role  string
		sites []string
		want  error
	}{
		{RoleManager, []string{"north"}, nil},
		{RoleManager, []string{"north", "south"}, nil},
		{RoleManager, nil, ErrManagerWithoutSites},
		{RoleManager, []string{}, ErrManagerWithoutSites},
		{RoleAdmin, nil, nil},
		{RoleQuality, nil, nil},
		{RoleAdmin, []string{"north"}, ErrSitesNotForRole},
		{RoleQuality, []string{"north"}, ErrSitesNotForRole},
	} {
		if got := CheckRoleSites(tc.role, tc.sites); !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
			t.Errorf("CheckRoleSites(%s, %q) = %v, want %v", tc.role, tc.sites, got, tc.want)
		}
	}
}
