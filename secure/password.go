package secure

//go:generate go run gen_common_passwords.go

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost for new hashes: about a quarter of a second
// on a 2020s server core, slow enough to make offline guessing of a stolen
// database expensive, fast enough for a login form.
const PasswordCost = 12

// Password length limits. The maximum is bcrypt's: it ignores everything after
// 72 bytes, so a longer password would give a false sense of strength.
const (
	MinPasswordLength = 12 // characters
	MaxPasswordBytes  = 72
)

// Policy errors; their text is written for the person choosing a password.
var (
	ErrPasswordTooShort   = fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	ErrPasswordTooLong    = fmt.Errorf("password must be at most %d bytes", MaxPasswordBytes)
	ErrPasswordCommon     = errors.New("password is too common; choose a longer phrase of unrelated words")
	ErrPasswordHasEmail   = errors.New("password must not contain the email address or its name part")
	ErrPasswordRepetitive = errors.New("password must not be a short pattern repeated")
)

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 16000)
	for line := range strings.Lines(commonPasswordsText) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// CheckPasswordPolicy returns nil if pw is acceptable for the account with the
// given email, or one of the ErrPassword errors saying what to change.
//
// Following NIST SP 800-63B, there are no composition rules (they push people
// to "Password1!"); instead a minimum length and a refusal of passwords that
// attackers try first: common passwords, also with digits or symbols bolted on
// or letters swapped for look-alike digits, repeated patterns, and the email.
func CheckPasswordPolicy(pw, email string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return ErrPasswordTooShort
	}
	if len(pw) > MaxPasswordBytes {
		return ErrPasswordTooLong
	}
	norm := strings.ToLower(strings.TrimSpace(pw))
	if containsEmail(norm, email) {
		return ErrPasswordHasEmail
	}
	if isCommon(norm) {
		return ErrPasswordCommon
	}
	if unit, ok := repeatedUnit(norm); ok && (utf8.RuneCountInString(unit) <= 4 || isCommon(unit)) {
		return ErrPasswordRepetitive
	}
	return nil
}

func isCommon(norm string) bool {
	set := commonPasswords()
	for _, c := range []string{norm, stripDecoration(norm), unleet(norm), stripDecoration(unleet(norm))} {
		// Very short cores ("ab" in "ab1234567890") are not a reason to
		// refuse; the list's entries that short are digit runs anyway.
		if utf8.RuneCountInString(c) < 4 {
			continue
		}
		if _, ok := set[c]; ok {
			return true
		}
	}
	return false
}

// stripDecoration removes the digits and symbols people put before or after
// a word to pass length rules: "!!dragon2024!" becomes "dragon".
func stripDecoration(s string) string {
	const deco = "0123456789!@#$%^&*()_+-=.,?~ "
	return strings.Trim(s, deco)
}

var leet = strings.NewReplacer("@", "a", "4", "a", "8", "b", "3", "e", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t")

func unleet(s string) string { return leet.Replace(s) }

// repeatedUnit reports whether s is some shorter string repeated, and which.
func repeatedUnit(s string) (string, bool) {
	n := len(s)
	for size := 1; size <= n/2; size++ {
		if n%size == 0 && strings.Repeat(s[:size], n/size) == s {
			return s[:size], true
		}
	}
	return "", false
}

func containsEmail(norm, email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	local, _, _ := strings.Cut(email, "@")
	if strings.Contains(norm, email) || (len(local) >= 3 && strings.Contains(norm, local)) {
		return true
	}
	// "jane.smith@…" should not be able to pick "smithjane2024".
	for _, part := range strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune("._-+", r) }) {
		if len(part) >= 4 && strings.Contains(norm, part) {
			return true
		}
	}
	return false
}

// HashPassword returns the bcrypt hash of pw at PasswordCost. It does not
// check the policy: callers check that first, so that an admin-imposed
// password from the CLI and a user's choice go through the same gate.
func HashPassword(pw string) (string, error) {
	return HashPasswordCost(pw, PasswordCost)
}

// HashPasswordCost is HashPassword with an explicit cost, for tests that
// need many logins to run fast (bcrypt.MinCost) without weakening production.
func HashPasswordCost(pw string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("secure: hash password: %w", err)
	}
	return string(h), nil
}

// VerifyPassword reports whether pw matches hash. A malformed hash counts as
// a mismatch: the caller's answer to the user is the same either way.
func VerifyPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// PasswordNeedsRehash reports whether hash was made with a lower cost than
// PasswordCost, so a successful login can upgrade it.
func PasswordNeedsRehash(hash string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	return err != nil || cost < PasswordCost
}

// dummyHash is the bcrypt hash, at PasswordCost, of a random string nobody
// knows. It is fixed rather than computed at start-up so the first login for
// an unknown account is not slower than the rest.
const dummyHash = "$2a$12$Lpm7gwhb4u3QBzmcm2uSo.o8lGcdNykPMWCDYlMBMcpRgRLpJvmD6"

// DummyVerify does the work of VerifyPassword against a hash that matches no
// password, and always returns false. Call it when the login email is unknown
// so the response takes as long as for a known account with a wrong
// password, and timing does not reveal which emails have accounts.
func DummyVerify(pw string) bool {
	VerifyPassword(dummyHash, pw)
	return false
}
