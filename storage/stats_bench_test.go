package storage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/carevoice/carevoice/stats"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestBenchLoadMatchesRaw checks the dashbench loader (COPY and pipelined
// upserts on PostgreSQL): after loading in several chunks, whose rollup keys
// overlap, the rollups (daily, site, department, monthly and per
// dimension) equal direct counts over the raw responses and every comment
// is stored.
func TestBenchLoadMatchesRaw(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		for _, site := range statsSites {
			if err := s.UpsertSite(ctx, site); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(3, 5))
		now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
		var rs []*storage.NewResponse
		for i := 0; i < 400; i++ {
			rs = append(rs, randomResponse(rng, i, now))
		}
		for i := 0; i < len(rs); i += 150 {
			if err := s.BenchLoad(ctx, rs[i:min(i+150, len(rs))]); err != nil {
				t.Fatalf("bench load: %v", err)
			}
		}
		if err := s.BenchAnalyze(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountResponses(ctx); err != nil || n != int64(len(rs)) {
			t.Fatalf("CountResponses = %d, %v; want %d", n, err, len(rs))
		}
		days := func(back int) string { return now.AddDate(0, 0, -back).Format(time.DateOnly) }
		for i, q := range []storage.StatsQuery{
			{Filter: storage.StatsFilter{From: days(130), To: days(-1)}},
			{Filter: storage.StatsFilter{From: days(120), To: days(-1)}, CurrentFrom: days(60), PreviousTo: days(90), Bucket: stats.Week, BySite: true},
			{Filter: storage.StatsFilter{From: days(100), To: days(10), Department: "a"}, Bucket: stats.Month},
			{Filter: storage.StatsFilter{From: days(125), To: days(-1)}, CurrentFrom: days(55), PreviousTo: days(70), Bucket: stats.Month, BySite: true},
			{Filter: storage.StatsFilter{From: days(125), To: days(-1), Survey: "fft", Channel: "kiosk"}, CurrentFrom: days(55), PreviousTo: days(70)},
			{Filter: storage.StatsFilter{From: days(50), To: days(0), Sites: []string{"west"}, Survey: "fft"}, Bucket: stats.Day},
			{Filter: storage.StatsFilter{From: days(125), To: days(-1), Provider: "p1"}, CurrentFrom: days(55), PreviousTo: days(70), Bucket: stats.Week, BySite: true},
			{Filter: storage.StatsFilter{From: days(125), To: days(-1), Channel: "kiosk"}, CurrentFrom: days(55), PreviousTo: days(70)},
			{Filter: storage.StatsFilter{From: days(120), To: days(-1), Department: "a", Channel: "kiosk"}, Bucket: stats.Week},
			{Filter: storage.StatsFilter{From: days(125), To: days(-1), Department: "b", Survey: "nps"}, CurrentFrom: days(55), PreviousTo: days(70), BySite: true},
		} {
			t.Run(fmt.Sprint("query", i), func(t *testing.T) {
				gotC, err := s.StatsCounts(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				gotT, err := s.StatsThemes(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				sortRows(gotC, gotT)
				wantC, wantT := direct(rs, q)
				if !reflect.DeepEqual(gotC, wantC) {
					t.Errorf("counts got  %+v\n       want %+v", gotC, wantC)
				}
				if !reflect.DeepEqual(gotT, wantT) {
					t.Errorf("themes got  %+v\n       want %+v", gotT, wantT)
				}
			})
		}
		want := 0
		for _, r := range rs {
			for _, a := range r.Answers {
				if a.Analysis != nil {
					want++
				}
			}
		}
		got := 0
		var after *storage.CommentCursor
		for {
			cs, more, err := s.Comments(ctx, storage.CommentQuery{Filter: storage.StatsFilter{From: days(130), To: days(-1)}, After: after, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			got += len(cs)
			if !more {
				break
			}
			c := cs[len(cs)-1].Cursor()
			after = &c
		}
		if got != want {
			t.Errorf("comments listed = %d, want %d", got, want)
		}
	})
}
