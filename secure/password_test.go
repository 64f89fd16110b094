package secure

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCommonPasswordList(t *testing.T) {
	set := commonPasswords()
	if len(set) < 1000 {
		t.Fatalf("got %d common passwords, want at least 1000", len(set))
	}
	for _, pw := range []string{"123456", "password", "qwerty", "iloveyou", "letmein", "dragon"} {
		if _, ok := set[pw]; !ok {
			t.Errorf("list lacks %q", pw)
		}
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		name  string
		pw    string
		email string
		want  error
	}{
		{"GoodPhrase", "tulip staircase ferry", "jane@example.org", nil},
		{"GoodRandom", "x7#Kp2!vQ9zL", "jane@example.org", nil},
		{"GoodUnicode", "café-ñandú-über", "", nil},
		{"Short", "tulip2ferry", "", ErrPasswordTooShort},
		{"ShortCountsRunes", "ñññññññññññ", "", ErrPasswordTooShort}, // 11 runes, 22 bytes
		{"TooLong", strings.Repeat("ab", 37), "", ErrPasswordTooLong},
		{"Exactly72Bytes", strings.Repeat("tulip-ferry!", 6), "", nil},
		{"CommonLong", "qwertyuiop123", "", ErrPasswordCommon},
		{"CommonWithYear", "Password2024", "", ErrPasswordCommon},
		{"CommonDecorated", "!!dragon123456!", "", ErrPasswordCommon},
		{"CommonLeet", "P@ssw0rd12345", "", ErrPasswordCommon},
		{"CommonCase", "IloveYou1234", "", ErrPasswordCommon},
		{"DigitRun", "123456789012", "", ErrPasswordCommon},
		{"ClinicWord", "Hospital2025!", "", ErrPasswordCommon},
		{"Repeated", "abcabcabcabc", "", ErrPasswordRepetitive},
		{"RepeatedChar", "zzzzzzzzzzzzzz", "", ErrPasswordRepetitive},
		{"RepeatedCommon", "monkeymonkey", "", ErrPasswordRepetitive},
		{"FullEmail", "jane@example.org!", "jane@example.org", ErrPasswordHasEmail},
		{"LocalPart", "JaneSmith-rocks", "janesmith@example.org", ErrPasswordHasEmail},
		{"LocalPartPiece", "smith-tulip-ferry", "jane.smith@example.org", ErrPasswordHasEmail},
		{"ShortLocalIgnored", "tulip staircase", "al@example.org", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPasswordPolicy(tt.pw, tt.email); !errors.Is(got, tt.want) {
				t.Fatalf("CheckPasswordPolicy(%q, %q) = %v, want %v", tt.pw, tt.email, got, tt.want)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPasswordCost("tulip staircase ferry", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash string
		pw   string
		want bool
	}{
		{"Right", h, "tulip staircase ferry", true},
		{"Wrong", h, "tulip staircase ferrY", false},
		{"Empty", h, "", false},
		{"MalformedHash", "not-a-hash", "tulip staircase ferry", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyPassword(tt.hash, tt.pw); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if !PasswordNeedsRehash(h) {
		t.Fatal("MinCost hash does not need rehash")
	}
	if _, err := HashPassword(strings.Repeat("a", 73)); err == nil {
		t.Fatal("hashing a 73-byte password: got nil error")
	}
}

// TestDummyVerify checks the property that makes the timing equal, that the
// dummy hash is a well-formed bcrypt hash at PasswordCost, rather than
// comparing wall-clock times, which on a busy CI machine only makes a flaky
// test.
func TestDummyVerify(t *testing.T) {
	cost, err := bcrypt.Cost([]byte(dummyHash))
	if err != nil || cost != PasswordCost {
		t.Fatalf("dummy hash cost %d (%v), want PasswordCost %d: unknown users would answer faster", cost, err, PasswordCost)
	}
	if testing.Short() {
		t.Skip("runs bcrypt at full cost")
	}
	if DummyVerify("tulip staircase ferry") {
		t.Fatal("DummyVerify returned true")
	}
}
