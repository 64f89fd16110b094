package api

import (
	"context"
	"sync"
	"time"

	"github.com/carevoice/carevoice/storage"
)

// tokenCache keeps recently seen bearer tokens for a few seconds: scripts and
// the load generator send one on every request, and a database read per
// request was an eighth of the submission path's CPU. Revoking a token on this
// instance empties the cache at once; another instance sharing the database
// honours a revocation within tokenCacheTTL. Expiry is checked on every use.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	t  storage.APIToken
	at time.Time
}

const (
	tokenCacheTTL = 5 * time.Second
	tokenCacheMax = 1024
)

func (s *Server) apiToken(ctx context.Context, hash string) (*storage.APIToken, error) {
	now := time.Now()
	s.tokens.mu.Lock()
	c, ok := s.tokens.m[hash]
	s.tokens.mu.Unlock()
	if ok && now.Sub(c.at) < tokenCacheTTL && c.t.ExpiresAt > s.now().UnixMilli() {
		t := c.t
		return &t, nil
	}
	t, err := s.store.APITokenByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	s.tokens.mu.Lock()
	if s.tokens.m == nil || len(s.tokens.m) >= tokenCacheMax {
		s.tokens.m = map[string]cachedToken{}
	}
	s.tokens.m[hash] = cachedToken{*t, now}
	s.tokens.mu.Unlock()
	return t, nil
}

// forgetTokens drops every cached token (after a revocation).
func (s *Server) forgetTokens() {
	s.tokens.mu.Lock()
	s.tokens.m = nil
	s.tokens.mu.Unlock()
}
