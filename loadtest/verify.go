package loadtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Counter tells how many stored responses carry each id; storage.Store's
// CountResponseIDs is one (used with `loadtest --db`).
type Counter interface {
	CountResponseIDs(ctx context.Context, ids []string) (map[string]int, error)
}

// Verification is how many acknowledged ids were found.
type Verification struct {
	Stored, Lost, Duplicates int64
	Missing                  []string // the first lost ids, for a report
}

func (v *Verification) lose(id string) {
	v.Lost++
	if len(v.Missing) < 20 {
		v.Missing = append(v.Missing, id)
	}
}

// VerifyDB counts the acknowledged ids in the database itself: every one
// must be there exactly once.
func VerifyDB(ctx context.Context, c Counter, ids []string) (Verification, error) {
	var v Verification
	const chunk = 5000
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		n, err := c.CountResponseIDs(ctx, part)
		if err != nil {
			return v, fmt.Errorf("loadtest: verify: %w", err)
		}
		for _, id := range part {
			switch k := n[id]; {
			case k == 0:
				v.lose(id)
			case k == 1:
				v.Stored++
			default:
				v.Stored++
				v.Duplicates += int64(k - 1)
			}
		}
	}
	return v, nil
}

// VerifyAPI reads every acknowledged id back through GET
// /api/v1/responses/{id} (needs an admin or quality token), spread over the
// instances. The id is the table's unique key, so the API cannot show a
// duplicate; `--db` counts rows.
func VerifyAPI(ctx context.Context, cfg Config, ids []string) (Verification, error) {
	cfg.defaults()
	if cfg.Token == "" {
		return Verification{}, errors.New("loadtest: verifying through the API needs --token (an admin or quality token), or give --db")
	}
	client := newClient(&cfg)
	var next atomic.Int64
	var mu sync.Mutex
	var v Verification
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				id := ids[i]
				status, err := getResponse(client, &cfg, req, resp, cfg.URLs[i%len(cfg.URLs)], id)
				mu.Lock()
				switch {
				case err != nil:
					if firstErr == nil {
						firstErr = err
					}
				case status == 200:
					v.Stored++
				case status == 404:
					v.lose(id)
				default:
					if firstErr == nil {
						firstErr = fmt.Errorf("loadtest: verify %s: status %d", id, status)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return v, firstErr
}

func getResponse(client *fasthttp.Client, cfg *Config, req *fasthttp.Request, resp *fasthttp.Response, base, id string) (int, error) {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		req.Reset()
		req.SetRequestURI(base + "/api/v1/responses/" + id)
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
		if err = client.DoTimeout(req, resp, cfg.Timeout); err == nil {
			if s := resp.StatusCode(); s != 503 && s != 429 {
				return s, nil
			}
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	if err == nil {
		err = fmt.Errorf("status %d", resp.StatusCode())
	}
	return 0, fmt.Errorf("loadtest: verify %s: %w", id, err)
}
