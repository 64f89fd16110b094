package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/carevoice/carevoice/loadtest"
	"github.com/carevoice/carevoice/secure"
	"github.com/carevoice/carevoice/storage"
	"github.com/carevoice/carevoice/storage/storagetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// TestMain removes the binary built for the package's tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds cmd/carevoice once for all tests of the package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "carevoice-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "carevoice")
		cmd := exec.Command("go", "build", "-o", binPath, "../cmd/carevoice")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out.String())
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is one running `carevoice serve` process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	URL  string
	log  *lockedBuffer
	done chan struct{}
	err  error // set when done is closed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// env is the environment of a server process: only what we set, plus PATH.
type env map[string]string

// start runs the binary with `serve` and waits until /healthz answers.
func start(t *testing.T, e env, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range e {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &server{t: t, cmd: cmd, URL: "http://" + addr, log: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server %s log:\n%s", s.URL, tail(s.log.String(), 3000))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("server exited before it was ready: %v\n%s", s.err, s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 60s:\n%s", s.log.String())
		}
	}
}

// signal sends sig and, for SIGTERM, waits for a clean exit.
func (s *server) kill(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server did not exit after %v", sig)
	}
	if sig == syscall.SIGTERM && s.err != nil {
		s.t.Fatalf("server exited with %v after SIGTERM:\n%s", s.err, tail(s.log.String(), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// sqliteEnv is a server environment on a fresh SQLite file in dir.
func sqliteEnv(dir string) env {
	return env{"CAREVOICE_DB": filepath.Join(dir, "carevoice.db"), "CAREVOICE_ADMIN_PASSWORD": adminPassword}
}

const adminPassword = "Kestrel-Harbour-Lantern-42"

// mintToken puts an admin API token straight into the database, as
// `carevoice loadtest --db` does.
func mintToken(t *testing.T, cfg storage.Config) string {
	t.Helper()
	cfg.Logger = storagetest.Quiet
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, hash := secure.NewToken("cvt_")
	if err := st.CreateAPIToken(context.Background(), &storage.APIToken{Name: "e2e", TokenHash: hash, Role: storage.RoleAdmin,
		ExpiresAt: time.Now().Add(time.Hour).UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	return tok
}

// openStore opens the database a server uses (while it runs or after).
func openStore(t *testing.T, cfg storage.Config) *storage.Store {
	t.Helper()
	cfg.Logger = storagetest.Quiet
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// acks collects acknowledged ids as they arrive.
type acks struct {
	mu  sync.Mutex
	ids []string
}

func (a *acks) add(id string) { a.mu.Lock(); a.ids = append(a.ids, id); a.mu.Unlock() }

func (a *acks) snapshot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

// drive runs the load generator in the background until stop is called.
type driver struct {
	cancel context.CancelFunc
	done   chan struct{}
	rep    *loadtest.Report
	err    error
	acks   *acks
}

func drive(t *testing.T, urls []string, token string, concurrency int) *driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &driver{cancel: cancel, done: make(chan struct{}), acks: &acks{}}
	cfg := loadtest.Config{URLs: urls, Duration: 5 * time.Minute, Concurrency: concurrency, Token: token,
		Timeout: 20 * time.Second, OnAck: d.acks.add, RetryEvery: 25}
	go func() {
		defer close(d.done)
		d.rep, d.err = loadtest.Drive(ctx, cfg)
	}()
	return d
}

// waitAcks waits until at least n submissions were acknowledged.
func (d *driver) waitAcks(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(d.acks.snapshot()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d acknowledgements after 60s, want %d", len(d.acks.snapshot()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *driver) stop(t *testing.T) *loadtest.Report {
	t.Helper()
	d.cancel()
	<-d.done
	if d.err != nil {
		t.Fatal(d.err)
	}
	return d.rep
}

// requireStored checks that every id is stored exactly once.
func requireStored(t *testing.T, st *storage.Store, ids []string) {
	t.Helper()
	v, err := loadtest.VerifyDB(context.Background(), st, ids)
	if err != nil {
		t.Fatal(err)
	}
	if v.Lost != 0 || v.Duplicates != 0 || v.Stored != int64(len(ids)) {
		t.Fatalf("of %d acknowledged: stored %d, lost %d (first: %v), duplicates %d", len(ids), v.Stored, v.Lost, v.Missing, v.Duplicates)
	}
}

// call sends one JSON request and returns the status and body.
func call(t *testing.T, method, url, bearer string, body any, hdr ...string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("signals: not on Windows")
	}
}
