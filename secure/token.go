package secure

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// TokenBytes is the randomness in every token: 256 bits, twice the 128 the
// security issue asks for, so guessing stays hopeless even against a store
// of millions of live tokens.
const TokenBytes = 32

// Prefixes make a leaked token recognisable (by people and by secret
// scanners) and keep one kind from being accepted as another.
const (
	PrefixInvitation = "cvi_"
	PrefixKiosk      = "cvk_"
	PrefixBearer     = "cvt_"
	PrefixSession    = "cvs_"
)

// NewToken returns a fresh token, prefix followed by 32 random bytes in
// base64url, and the hash to store in place of it. The token itself is shown
// once and never stored.
func NewToken(prefix string) (token string, hash string) {
	b := make([]byte, TokenBytes)
	rand.Read(b) // never fails since Go 1.24: it crashes the program instead
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token, the form tokens are stored and
// looked up in. No salt and no slow hash: those defend guessable secrets like
// passwords, while a 256-bit random token cannot be guessed or found in any
// precomputed table. An unsalted hash also keeps the lookup a plain indexed
// equality match, and a stolen database still yields no usable token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatchesHash reports, in constant time, whether token hashes to hash.
func TokenMatchesHash(token, hash string) bool {
	return ConstantTimeEqual(HashToken(token), hash)
}

// ConstantTimeEqual compares two secrets without leaking through timing how
// long their common prefix is. Only the lengths may leak, which for hashes and
// MACs are public anyway.
func ConstantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
