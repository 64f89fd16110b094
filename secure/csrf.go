package secure

import (
	"encoding/base64"
)

const csrfPurpose = "csrf"

// CSRFToken returns the CSRF token for a session: an HMAC of the session id
// under the signing sub-key. Deriving rather than storing it means nothing
// extra to keep per session, the token changes whenever the session does
// (login, logout, password change), and a token lifted from one session is
// useless in another.
func (kr *Keyring) CSRFToken(sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(kr.MAC(csrfPurpose, []byte(sessionID)))
}

// VerifyCSRF reports whether token is the CSRF token of sessionID, in
// constant time. An empty session id never verifies, so a request without a
// session cannot pass with the token of the empty string.
func (kr *Keyring) VerifyCSRF(sessionID, token string) bool {
	if sessionID == "" || token == "" {
		return false
	}
	sum, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return kr.VerifyMAC(csrfPurpose, []byte(sessionID), sum)
}
