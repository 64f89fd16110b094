package secure

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixInvitation, PrefixKiosk, PrefixBearer, PrefixSession, ""} {
		t.Run("Prefix"+prefix, func(t *testing.T) {
			tok, hash := NewToken(prefix)
			if !strings.HasPrefix(tok, prefix) {
				t.Fatalf("got %q, want prefix %q", tok, prefix)
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, prefix))
			if err != nil || len(raw) != TokenBytes {
				t.Fatalf("got %d random bytes (%v), want %d", len(raw), err, TokenBytes)
			}
			if hash != HashToken(tok) || len(hash) != 64 {
				t.Fatalf("got hash %q, want HashToken of the token", hash)
			}
			if seen[tok] {
				t.Fatal("token repeated")
			}
			seen[tok] = true
		})
	}
}

func TestTokenMatchesHash(t *testing.T) {
	tok, hash := NewToken(PrefixKiosk)
	other, _ := NewToken(PrefixKiosk)
	tests := []struct {
		name  string
		token string
		want  bool
	}{
		{"Same", tok, true},
		{"Other", other, false},
		{"Empty", "", false},
		{"HashItself", hash, false},
		{"OtherPrefix", PrefixBearer + strings.TrimPrefix(tok, PrefixKiosk), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenMatchesHash(tt.token, hash); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashTokenKnownVector(t *testing.T) {
	// SHA-256("abc"): stored hashes must stay comparable across releases.
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestCSRF(t *testing.T) {
	oldKey := GenerateKey()
	kr := mustKeyring(t, oldKey)
	tok := kr.CSRFToken("cvs_one")
	tests := []struct {
		name    string
		kr      *Keyring
		session string
		token   string
		want    bool
	}{
		{"Valid", kr, "cvs_one", tok, true},
		{"OtherSession", kr, "cvs_two", tok, false},
		{"Missing", kr, "cvs_one", "", false},
		{"NoSession", kr, "", kr.CSRFToken(""), false},
		{"Garbage", kr, "cvs_one", "not base64 !!", false},
		{"Truncated", kr, "cvs_one", tok[:20], false},
		{"OtherKey", mustKeyring(t, GenerateKey()), "cvs_one", tok, false},
		{"AfterRotation", mustKeyring(t, GenerateKey(), oldKey), "cvs_one", tok, true},
		{"SignedValueIsNotCSRF", kr, "cvs_one", strings.TrimPrefix(kr.SignValue("session", "cvs_one"), "cvs_one."), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.kr.VerifyCSRF(tt.session, tt.token); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
