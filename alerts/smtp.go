package alerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// SMTP is the mail relay alerts go through.
type SMTP struct {
	Host     string
	Port     int // default 587
	Username string
	Password string
	From     string
	// StartTLS requires the relay to upgrade the connection before any
	// credentials or message are sent. It is on unless explicitly turned
	// off (for a relay on localhost).
	StartTLS bool
	// TLS overrides the TLS settings (tests trust their own certificate).
	TLS     *tls.Config
	Timeout time.Duration // whole conversation; default 30s
}

// Send delivers one plain-text message to the recipients.
func (m SMTP) Send(ctx context.Context, to []string, subject, body string) error {
	if m.Host == "" {
		return errors.New("smtp: no host configured")
	}
	port := m.Port
	if port == 0 {
		port = 587
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	addr := net.JoinHostPort(m.Host, strconv.Itoa(port))
	dialer := net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", addr, err)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, m.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("carevoice"); err != nil {
		return fmt.Errorf("smtp: hello: %w", err)
	}
	if m.StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("smtp: the relay does not offer STARTTLS, and it is required")
		}
		cfg := m.TLS
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		cfg = cfg.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = m.Host
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: starttls: %w", err)
		}
	}
	if m.Username != "" {
		// net/smtp's PLAIN auth refuses to send the password over an
		// unencrypted connection to anything but localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, m.Host)); err != nil {
			return fmt.Errorf("smtp: auth: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("smtp: mail from: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("smtp: rcpt: %w", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: data: %w", err)
	}
	if _, err := w.Write(message(m.From, to, subject, body, time.Now())); err != nil {
		return fmt.Errorf("smtp: write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: end of data: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp: quit: %w", err)
	}
	return nil
}

// message builds an RFC 5322 message. Header values lose CR and LF, so a
// site name can never add a header.
func message(from string, to []string, subject, body string, at time.Time) []byte {
	clean := strings.NewReplacer("\r", " ", "\n", " ")
	id := make([]byte, 12)
	rand.Read(id)
	host := "carevoice"
	if i := strings.LastIndex(from, "@"); i >= 0 {
		host = clean.Replace(from[i+1:])
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", clean.Replace(from))
	fmt.Fprintf(&b, "To: %s\r\n", clean.Replace(strings.Join(to, ", ")))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", clean.Replace(subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", at.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\nAuto-Submitted: auto-generated\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}
