package alerts

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// FromEnv reads the alert settings from environment variables (getenv is
// os.Getenv in main):
//
//	CAREVOICE_SMTP_HOST, CAREVOICE_SMTP_PORT (587), CAREVOICE_SMTP_USERNAME,
//	CAREVOICE_SMTP_PASSWORD, CAREVOICE_SMTP_FROM, CAREVOICE_SMTP_STARTTLS
//	(true; false only for a relay on the same host),
//	CAREVOICE_WEBHOOK_URLS (comma-separated), CAREVOICE_WEBHOOK_SECRET,
//	CAREVOICE_BASE_URL (links in messages).
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{BaseURL: getenv("CAREVOICE_BASE_URL")}
	c.SMTP = SMTP{Host: getenv("CAREVOICE_SMTP_HOST"), Username: getenv("CAREVOICE_SMTP_USERNAME"),
		Password: getenv("CAREVOICE_SMTP_PASSWORD"), From: getenv("CAREVOICE_SMTP_FROM"), StartTLS: true}
	if v := getenv("CAREVOICE_SMTP_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("CAREVOICE_SMTP_PORT must be a port number, not %q", v)
		}
		c.SMTP.Port = p
	}
	if v := getenv("CAREVOICE_SMTP_STARTTLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("CAREVOICE_SMTP_STARTTLS must be true or false, not %q", v)
		}
		c.SMTP.StartTLS = b
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		return c, fmt.Errorf("CAREVOICE_SMTP_FROM is required when CAREVOICE_SMTP_HOST is set")
	}
	if c.SMTP.Host != "" && !c.SMTP.StartTLS && c.SMTP.Username != "" && c.SMTP.Host != "localhost" && c.SMTP.Host != "127.0.0.1" {
		return c, fmt.Errorf("CAREVOICE_SMTP_STARTTLS=false would send the SMTP password in clear text: only allowed for localhost")
	}
	secret := getenv("CAREVOICE_WEBHOOK_SECRET")
	for _, u := range strings.Split(getenv("CAREVOICE_WEBHOOK_URLS"), ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return c, fmt.Errorf("CAREVOICE_WEBHOOK_URLS: %q is not an http(s) URL", u)
		}
		if secret == "" {
			return c, fmt.Errorf("CAREVOICE_WEBHOOK_SECRET is required with CAREVOICE_WEBHOOK_URLS: receivers must be able to check the signature")
		}
		c.Webhooks = append(c.Webhooks, Webhook{URL: u, Secret: secret})
	}
	return c, nil
}
