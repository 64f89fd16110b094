package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/carevoice/carevoice/alerts"
	"github.com/carevoice/carevoice/api"
	"github.com/carevoice/carevoice/storage"
)

// startAlerts connects follow-up alerts (issue 8) to the server and runs
// their loop until ctx ends; stop waits for sends in flight. Without SMTP or
// webhook settings the loop still runs, so cases and the outbox behave the
// same, and nothing leaves the machine.
func startAlerts(ctx context.Context, srv *api.Server, st *storage.Store, c *config, log *slog.Logger) (stop func(), err error) {
	cfg, err := alerts.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = c.BaseURL
	}
	if !cfg.Enabled() {
		log.Info("alerts: no SMTP or webhook configured; cases open without messages")
	}
	d := alerts.New(st, cfg, log)
	srv.SetAlerts(d)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }, nil
}
