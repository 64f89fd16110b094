package storage_test

import (
	"context"
	"testing"

	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

func TestAuditSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, st *storage.Store) {
		ctx := context.Background()
		for _, a := range []struct{ actor, action string }{
			{"user:a@x", "export.csv"}, {"token:1", "export.csv"}, {"user:a@x", "exportXcsv"}, {"user:a@x", "login.success"},
			{"user:b@x", "export_all"}, {"user:a@x", "audit.export"},
		} {
			if err := st.Audit(ctx, a.actor, a.action, "", map[string]int{"rows": 1}); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			q    storage.AuditQuery
			want int
		}{
			{"all", storage.AuditQuery{}, 6},
			{"exact", storage.AuditQuery{Action: "export.csv"}, 2},
			{"prefix", storage.AuditQuery{Action: "export."}, 2}, // "_" and "." are not wildcards
			{"actor", storage.AuditQuery{Actor: "user:a@x"}, 4},
			{"both", storage.AuditQuery{Action: "export.", Actor: "token:1"}, 1},
			{"page", storage.AuditQuery{Limit: 4}, 4},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				es, err := st.AuditSearch(ctx, c.q)
				if err != nil || len(es) != c.want {
					t.Fatalf("got %d entries (%v), want %d", len(es), err, c.want)
				}
				for i := 1; i < len(es); i++ {
					if es[i].ID >= es[i-1].ID {
						t.Errorf("not newest first: %d then %d", es[i-1].ID, es[i].ID)
					}
				}
			})
		}
		first, _ := st.AuditSearch(ctx, storage.AuditQuery{Limit: 4})
		rest, _ := st.AuditSearch(ctx, storage.AuditQuery{Before: first[3].ID})
		if len(rest) != 2 {
			t.Errorf("before cursor: got %d, want 2", len(rest))
		}
		n := 0
		if err := st.EachAudit(ctx, storage.AuditQuery{Action: "export."}, func(es []storage.AuditEntry) error { n += len(es); return nil }); err != nil || n != 2 {
			t.Errorf("EachAudit: %d, %v", n, err)
		}
	})
}
