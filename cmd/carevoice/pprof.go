package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
)

// startProfiler serves Go's profiler on CAREVOICE_PPROF (for example
// 127.0.0.1:6060) when it is set: how the BENCHMARKS.md profiles were taken.
// It is off by default and must only ever listen on a loopback address.
func startProfiler(log *slog.Logger) {
	addr := os.Getenv("CAREVOICE_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		log.Info("profiler listening", "addr", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("profiler", "err", err)
		}
	}()
}
