package alerts

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a tiny in-process SMTP relay speaking just enough of RFC
// 5321 (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT) to hold a real
// conversation with net/smtp over a real socket.
type smtpServer struct {
	ln       net.Listener
	tls      *tls.Config
	noTLS    bool // do not offer STARTTLS
	mu       sync.Mutex
	mails    []smtpMail
	authSeen []smtpAuth
	wg       sync.WaitGroup
}

type smtpAuth struct {
	user, pass string
	overTLS    bool
}

type smtpMail struct {
	from    string
	to      []string
	data    string
	overTLS bool
}

func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func startSMTP(t *testing.T, noTLS bool) (*smtpServer, *x509.CertPool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, pool := selfSigned(t)
	s := &smtpServer{ln: ln, tls: cfg, noTLS: noTLS}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s, pool
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), c
	say := func(line string) { w.Write([]byte(line + "\r\n")) }
	overTLS := false
	var m smtpMail
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			say("250-test")
			if !s.noTLS && !overTLS {
				say("250-STARTTLS")
			}
			say("250 AUTH PLAIN")
		case "STARTTLS":
			say("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, w, overTLS = tc, bufio.NewReader(tc), tc, true
		case "AUTH":
			parts := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			f := strings.Split(string(raw), "\x00")
			s.mu.Lock()
			s.authSeen = append(s.authSeen, smtpAuth{f[1], f[2], overTLS})
			s.mu.Unlock()
			say("235 ok")
		case "MAIL":
			m = smtpMail{from: line, overTLS: overTLS}
			say("250 ok")
		case "RCPT":
			m.to = append(m.to, strings.Trim(strings.TrimPrefix(line, "RCPT TO:"), "<>"))
			say("250 ok")
		case "DATA":
			say("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.data = b.String()
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown")
		}
	}
}

func (s *smtpServer) got() ([]smtpMail, []smtpAuth) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMail(nil), s.mails...), append([]smtpAuth(nil), s.authSeen...)
}

func TestSMTPStartTLS(t *testing.T) {
	srv, pool := startSMTP(t, false)
	m := SMTP{Host: "127.0.0.1", Port: srv.port(), Username: "alerts", Password: "s3cret", From: "carevoice@clinic.example",
		StartTLS: true, TLS: &tls.Config{RootCAs: pool}}
	if err := m.Send(context.Background(), []string{"nora@example.org"}, "URGENT case #7\r\nBcc: evil@example.org", "Open it: https://x/cases/7\n"); err != nil {
		t.Fatal(err)
	}
	mails, auths := srv.got()
	if len(auths) != 1 || auths[0].user != "alerts" || auths[0].pass != "s3cret" || !auths[0].overTLS {
		t.Fatalf("auth: %+v, want credentials sent once, over TLS", auths)
	}
	if len(mails) != 1 || !mails[0].overTLS || mails[0].to[0] != "nora@example.org" {
		t.Fatalf("mail: %+v", mails)
	}
	data := mails[0].data
	if !strings.Contains(data, "Subject: URGENT case #7  Bcc: evil@example.org\r\n") || strings.Contains(data, "\r\nBcc:") {
		t.Fatalf("header injection not neutralised:\n%s", data)
	}
	if !strings.Contains(data, "https://x/cases/7") {
		t.Fatalf("body missing:\n%s", data)
	}
}

func TestSMTPRefusesWithoutStartTLS(t *testing.T) {
	srv, _ := startSMTP(t, true)
	m := SMTP{Host: "127.0.0.1", Port: srv.port(), Username: "alerts", Password: "s3cret", From: "a@b.example", StartTLS: true}
	err := m.Send(context.Background(), []string{"nora@example.org"}, "s", "b")
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a STARTTLS error", err)
	}
	if mails, auths := srv.got(); len(mails) != 0 || len(auths) != 0 {
		t.Fatalf("sent without TLS: %d mails, %d auths", len(mails), len(auths))
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"nothing", map[string]string{}, ""},
		{"smtp", map[string]string{"CAREVOICE_SMTP_HOST": "mail.example.org", "CAREVOICE_SMTP_FROM": "a@b.c", "CAREVOICE_SMTP_PORT": "2525"}, ""},
		{"smtp without from", map[string]string{"CAREVOICE_SMTP_HOST": "mail.example.org"}, "CAREVOICE_SMTP_FROM"},
		{"bad port", map[string]string{"CAREVOICE_SMTP_PORT": "x"}, "CAREVOICE_SMTP_PORT"},
		{"password in clear", map[string]string{"CAREVOICE_SMTP_HOST": "mail.example.org", "CAREVOICE_SMTP_FROM": "a@b.c",
			"CAREVOICE_SMTP_USERNAME": "u", "CAREVOICE_SMTP_STARTTLS": "false"}, "clear text"},
		{"webhook without secret", map[string]string{"CAREVOICE_WEBHOOK_URLS": "https://hooks.example.org/x"}, "SECRET"},
		{"webhook not http", map[string]string{"CAREVOICE_WEBHOOK_URLS": "ftp://x", "CAREVOICE_WEBHOOK_SECRET": "k"}, "not an http"},
		{"webhooks", map[string]string{"CAREVOICE_WEBHOOK_URLS": "https://a.example/x, https://b.example/y", "CAREVOICE_WEBHOOK_SECRET": "k"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("got %v, want error containing %q", err, tt.err)
			}
			if tt.name == "webhooks" && len(c.Webhooks) != 2 {
				t.Fatalf("webhooks: %+v", c.Webhooks)
			}
			if tt.name == "smtp" && (c.SMTP.Port != 2525 || !c.SMTP.StartTLS) {
				t.Fatalf("smtp: %+v", c.SMTP)
			}
		})
	}
}
