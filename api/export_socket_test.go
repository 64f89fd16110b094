//go:build unix

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carevoice/carevoice/api/apitest"
	"github.com/carevoice/carevoice/storage"
)

// TestExportStopsWhenClientLeaves runs the app on a real socket: a client
// that reads the start of a large export and hangs up stops the export, and
// the audit entry says so with the rows actually written.
func TestExportStopsWhenClientLeaves(t *testing.T) {
	e := apitest.New(t)
	// About 12 MB of comments: more than the kernel buffers on both ends
	// can hold, so the server must still be writing when the client leaves.
	long := strings.Repeat("The waiting room was cold and nobody told us about the delay. ", 78)
	const n = 2500
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				one := 1
				text := long
				r := &storage.NewResponse{ID: fmt.Sprintf("sock-%d", i), Survey: "fft", SurveyVersion: 1, Site: "main",
					Channel: "link", Lang: "en", SubmittedAt: time.Now(), LocalDay: time.Now().UTC().Format(time.DateOnly),
					Fingerprint: "f", FFT: &one, Answers: []storage.NewAnswer{{Question: "q1", Type: "rating5", Num: &one},
						{Question: "q3", Position: 2, Type: "text", Intent: "improve", Text: &text}}}
				_, err := e.Store.SubmitResponse(context.Background(), r)
				for err == storage.ErrBusy {
					time.Sleep(time.Millisecond)
					_, err = e.Store.SubmitResponse(context.Background(), r)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.App.Listener(ln)
	t.Cleanup(func() { e.App.Shutdown() })

	q := e.Token("quality")
	// A small receive window keeps the server's writes from all landing in
	// kernel buffers before the client leaves.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return serr
	}}
	conn, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /api/v1/export.csv?format=comments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", q.Bearer)
	buf := make([]byte, 2048)
	if _, err := io.ReadAtLeast(conn, buf, len(buf)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(buf), "HTTP/1.1 200") {
		t.Fatalf("response: %q", buf[:64])
	}
	conn.Close()

	// The server notices at its next write; wait for its audit entry.
	var d2 map[string]any
	for i := 0; i < 200; i++ {
		es, _ := e.Store.AuditSearch(context.Background(), storage.AuditQuery{Action: "export.csv", Limit: 1})
		if len(es) == 1 {
			json.Unmarshal([]byte(es[0].Detail), &d2)
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if d2 == nil {
		t.Fatal("no audit entry after the client left")
	}
	if d2["complete"] != false || d2["rows"].(float64) >= n {
		t.Errorf("export went on after the client left: %v", d2)
	}
}
