package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carevoice/carevoice/alerts"
	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage/storagetest"
)

// TestDeadReceiverDoesNotSlowSubmissions points alerts at a webhook that
// accepts connections and never answers. Every urgent submission must still
// be acknowledged while the receiver is stuck: were delivery in the request
// path, the first submission would hang until the test harness timed out.
func TestDeadReceiverDoesNotSlowSubmissions(t *testing.T) {
	e := apitest.New(t)
	release := make(chan struct{})
	var arrived atomic.Int64
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-release
	}))
	d := alerts.New(e.Store, alerts.Config{Webhooks: []alerts.Webhook{{URL: dead.URL, Secret: "k"}}, Workers: 2}, storagetest.Quiet)
	e.Server.SetAlerts(d)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); d.Run(ctx) }()
	defer func() {
		close(release)
		cancel()
		wg.Wait()
		dead.Close()
	}()

	// First make sure the receiver is stuck on a delivery.
	submitFFT(t, e, "main", 1, "The nurse gave me the wrong dose of insulin", false)
	deadline := time.Now().Add(20 * time.Second)
	for arrived.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the alert never reached the receiver")
		}
		time.Sleep(5 * time.Millisecond)
	}
	const n = 20
	for i := 1; i < n; i++ {
		submitFFT(t, e, "main", 1, "The nurse gave me the wrong dose of insulin", false)
	}
	if got := arrived.Load(); got > 2 {
		t.Fatalf("%d webhook calls in flight, want at most the 2 workers", got)
	}
	ks := listCases(t, e.Token("admin"), "?urgent=1")
	if len(ks) != n {
		t.Fatalf("urgent cases: %d, want %d", len(ks), n)
	}
}
