package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/carevoice/carevoice/storage"
)

// SignatureHeader carries the HMAC-SHA256 signature of a webhook body (Sign).
const SignatureHeader = "X-CareVoice-Signature"

// postWebhook makes one try. Redirects are not followed: a receiver that
// moved must be reconfigured, not silently re-pointed.
func postWebhook(ctx context.Context, w Webhook, del storage.Delivery, timeout time.Duration, now time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body := []byte(del.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "CareVoice-Alerts/1")
	req.Header.Set("X-CareVoice-Event", del.Kind)
	// The same id on every retry lets a receiver drop duplicates.
	req.Header.Set("X-CareVoice-Delivery", strconv.FormatInt(del.ID, 10))
	if w.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(w.Secret, now, body))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error repeats the URL, which may hold the receiver's secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook: receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
