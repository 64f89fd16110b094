package secure

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a master key in bytes.
const KeySize = 32

// Names of the key files inside the data directory.
const (
	KeyFileName    = "secret.key"
	OldKeyFileName = "secret.key.old"
)

// HKDF info strings. They are part of the on-disk format: changing one makes
// every stored ciphertext or signature unreadable.
const (
	infoEncryption = "carevoice/v1/contact-encryption"
	infoSigning    = "carevoice/v1/signing"
	infoKeyID      = "carevoice/v1/key-id"
)

// Ciphertext layout: version | key id | nonce | AES-GCM output.
const (
	sealVersion = 0x01
	keyIDSize   = 4
	nonceSize   = 12
	headerSize  = 1 + keyIDSize + nonceSize
)

// ErrBadKey is returned for a key that is neither 64 hex characters nor the
// base64 of 32 bytes.
var ErrBadKey = errors.New("secure: key must be 64 hex characters or base64 of 32 bytes (generate one with: openssl rand -hex 32)")

// ErrDecrypt is returned when a ciphertext cannot be opened: wrong key, wrong
// associated data, or tampering. The causes are not distinguished on purpose.
var ErrDecrypt = errors.New("secure: cannot decrypt")

// ErrUnknownKey is returned when a ciphertext was sealed under a key the
// keyring does not hold, which usually means an old key was retired before
// every row had been re-encrypted.
var ErrUnknownKey = errors.New("secure: ciphertext sealed under an unknown key")

type subkeys struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
	sign []byte
	raw  []byte
}

func deriveKeys(master []byte) (*subkeys, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("secure: master key is %d bytes: %w", len(master), ErrBadKey)
	}
	// Sub-keys keep the two uses independent: a flaw in how cookies are
	// signed can never leak the key that encrypts contact details.
	enc, err := hkdf.Key(sha256.New, master, nil, infoEncryption, 32)
	if err != nil {
		return nil, fmt.Errorf("secure: derive encryption key: %w", err)
	}
	sign, err := hkdf.Key(sha256.New, master, nil, infoSigning, 32)
	if err != nil {
		return nil, fmt.Errorf("secure: derive signing key: %w", err)
	}
	id, err := hkdf.Key(sha256.New, master, nil, infoKeyID, keyIDSize)
	if err != nil {
		return nil, fmt.Errorf("secure: derive key id: %w", err)
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("secure: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secure: gcm: %w", err)
	}
	k := &subkeys{aead: aead, sign: sign, raw: bytes.Clone(master)}
	copy(k.id[:], id)
	return k, nil
}

// Keyring holds the current master key, used for all new ciphertexts and
// signatures, and older keys that are only used to open and verify. It is safe
// for concurrent use.
type Keyring struct {
	current *subkeys
	all     []*subkeys // current first
}

// NewKeyring builds a keyring from raw 32-byte master keys. Keeping old keys
// lets a rotation re-encrypt rows one at a time while both keys still work.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	cur, err := deriveKeys(current)
	if err != nil {
		return nil, fmt.Errorf("current key: %w", err)
	}
	kr := &Keyring{current: cur, all: []*subkeys{cur}}
	for i, o := range old {
		k, err := deriveKeys(o)
		if err != nil {
			return nil, fmt.Errorf("old key %d: %w", i+1, err)
		}
		if dup := kr.byID(k.id); dup != nil {
			if hmac.Equal(dup.raw, k.raw) {
				continue // the same key listed twice is harmless
			}
			// Four id bytes make this a 1 in 4 billion event, but silently
			// picking the wrong key would turn into ErrDecrypt much later.
			return nil, fmt.Errorf("secure: old key %d has the same key id as another key; generate a new key", i+1)
		}
		kr.all = append(kr.all, k)
	}
	return kr, nil
}

func (kr *Keyring) byID(id [keyIDSize]byte) *subkeys {
	for _, k := range kr.all {
		if k.id == id {
			return k
		}
	}
	return nil
}

// KeyID returns the hex id of the current key, as stamped into every new
// ciphertext; a rotation command compares it with CiphertextKeyID.
func (kr *Keyring) KeyID() string { return hex.EncodeToString(kr.current.id[:]) }

// KeyIDs returns the ids of all keys, current first.
func (kr *Keyring) KeyIDs() []string {
	ids := make([]string, len(kr.all))
	for i, k := range kr.all {
		ids[i] = hex.EncodeToString(k.id[:])
	}
	return ids
}

// SigningKey returns a copy of the current signing sub-key, for middleware
// that wants raw key bytes. Prefer MAC and SignValue where possible.
func (kr *Keyring) SigningKey() []byte { return bytes.Clone(kr.current.sign) }

// Seal encrypts plaintext with AES-256-GCM under the current key. The
// associated data is authenticated but not stored: pass the owning row's id
// so a ciphertext copied onto another row fails to open.
func (kr *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	k := kr.current
	out := make([]byte, headerSize, headerSize+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	nonce := out[1+keyIDSize : headerSize]
	// Random 96-bit nonces are safe for up to about 2^32 messages per key,
	// far beyond the number of contact records a clinic will ever store.
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secure: nonce: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, kr.ad(out[:1+keyIDSize], associatedData)), nil
}

// ad binds the header to the ciphertext so the version and key id cannot be
// swapped without detection.
func (kr *Keyring) ad(header, associatedData []byte) []byte {
	ad := make([]byte, 0, len(header)+len(associatedData))
	return append(append(ad, header...), associatedData...)
}

// Open decrypts a ciphertext made by Seal with any key in the ring.
func (kr *Keyring) Open(ciphertext, associatedData []byte) ([]byte, error) {
	id, err := parseHeader(ciphertext)
	if err != nil {
		return nil, err
	}
	k := kr.byID(id)
	if k == nil {
		return nil, fmt.Errorf("key id %x: %w", id, ErrUnknownKey)
	}
	nonce := ciphertext[1+keyIDSize : headerSize]
	pt, err := k.aead.Open(nil, nonce, ciphertext[headerSize:], kr.ad(ciphertext[:1+keyIDSize], associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Reseal opens a ciphertext with whichever key made it and seals it again
// under the current key; it is the unit of work of a key rotation.
func (kr *Keyring) Reseal(ciphertext, associatedData []byte) ([]byte, error) {
	pt, err := kr.Open(ciphertext, associatedData)
	if err != nil {
		return nil, err
	}
	return kr.Seal(pt, associatedData)
}

// NeedsReseal reports whether a ciphertext was sealed under a key other than
// the current one, so a rotation can skip rows it already did.
func (kr *Keyring) NeedsReseal(ciphertext []byte) bool {
	id, err := parseHeader(ciphertext)
	return err == nil && id != kr.current.id
}

// CiphertextKeyID returns the hex id of the key that sealed a ciphertext.
func CiphertextKeyID(ciphertext []byte) (string, error) {
	id, err := parseHeader(ciphertext)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(id[:]), nil
}

func parseHeader(ct []byte) ([keyIDSize]byte, error) {
	var id [keyIDSize]byte
	if len(ct) < headerSize+16 {
		return id, fmt.Errorf("ciphertext too short: %w", ErrDecrypt)
	}
	if ct[0] != sealVersion {
		return id, fmt.Errorf("ciphertext version %d: %w", ct[0], ErrDecrypt)
	}
	copy(id[:], ct[1:1+keyIDSize])
	return id, nil
}

// GenerateKey returns a new random master key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails since Go 1.24: it crashes the program instead
	return k
}

// EncodeKey renders a key the way key files store it and the way
// CAREVOICE_SECRET_KEY accepts it.
func EncodeKey(key []byte) string { return hex.EncodeToString(key) }

// ParseKey accepts 64 hex characters or the standard or URL-safe base64 of
// 32 bytes, with or without padding; surrounding white space is ignored.
//
// Passphrases are rejected rather than stretched. HKDF is not a password
// hash: a guessable passphrase run through it stays guessable, and whoever
// steals a database or backup could test guesses offline against every
// encrypted phone number. A real password hash (argon2id, scrypt) would need
// a stored salt and tuning, which buys little over asking for a random key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, ErrBadKey
}

// LoadOrCreateKey returns the keyring the server runs with.
//
// When envKey (CAREVOICE_SECRET_KEY) is set it is the current key; otherwise
// dataDir/secret.key is read, or created with a fresh random key (directory
// 0700, file 0600) on first start. Keys listed one per line in
// dataDir/secret.key.old are loaded for decryption only; when envKey is set,
// an existing secret.key is loaded that way too, so data sealed before the
// operator switched to the environment variable still opens and can be
// re-encrypted.
func LoadOrCreateKey(dataDir string, envKey string) (*Keyring, error) {
	path := filepath.Join(dataDir, KeyFileName)
	var current []byte
	var old [][]byte
	if strings.TrimSpace(envKey) != "" {
		k, err := ParseKey(envKey)
		if err != nil {
			return nil, fmt.Errorf("CAREVOICE_SECRET_KEY: %w", err)
		}
		current = k
		if fileKey, err := readKeyFile(path); err == nil {
			old = append(old, fileKey)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	} else {
		k, err := readKeyFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("secure: create data dir: %w", err)
			}
			if err := createKeyFile(path, GenerateKey()); err != nil {
				return nil, err
			}
			// Re-read rather than use the generated key: another process
			// may have created the file first.
			if k, err = readKeyFile(path); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		}
		current = k
	}
	olds, err := readOldKeys(filepath.Join(dataDir, OldKeyFileName))
	if err != nil {
		return nil, err
	}
	return NewKeyring(current, append(old, olds...)...)
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secure: read key file: %w", err)
	}
	// Raw 32-byte files are refused on purpose: a 32-character passphrase
	// typed into the file would otherwise be taken for a random key.
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secure: key file %s: %w", path, err)
	}
	return k, nil
}

func readOldKeys(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secure: read old keys: %w", err)
	}
	var keys [][]byte
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParseKey(line)
		if err != nil {
			return nil, fmt.Errorf("secure: %s line %d: %w", path, i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// createKeyFile creates the key file only if none exists. The key is written
// to a temporary file and hard-linked into place, so two processes starting
// together on an empty data dir agree on one key and neither can read a
// half-written file.
func createKeyFile(path string, key []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), []byte(EncodeKey(key)+"\n"))
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("secure: create key file: %w", err)
	}
	syncDir(filepath.Dir(path))
	return nil
}

// WriteKeyFile replaces path with key (hex, mode 0600) atomically: readers
// see the old key or the new one, never a truncated file, even on a crash.
func WriteKeyFile(path string, key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("secure: write key file: %w", ErrBadKey)
	}
	return writeFileAtomic(path, []byte(EncodeKey(key)+"\n"))
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secure: create key dir: %w", err)
	}
	tmp, err := writeTemp(dir, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("secure: replace key file: %w", err)
	}
	syncDir(dir)
	return nil
}

// writeTemp writes data to a new synced 0600 file in dir and returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	// CreateTemp makes the file 0600, so the key is never readable by others,
	// not even between create and rename; Chmod guards against odd umasks.
	f, err := os.CreateTemp(dir, ".tmp-key-*")
	if err != nil {
		return "", fmt.Errorf("secure: temp key file: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(fmt.Errorf("secure: chmod key file: %w", err))
	}
	if _, err := f.Write(data); err != nil {
		return fail(fmt.Errorf("secure: write key file: %w", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("secure: sync key file: %w", err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("secure: close key file: %w", err)
	}
	return tmp, nil
}

// syncDir makes a rename or link durable; a failure only weakens crash
// safety, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// RotateKeyFile starts a key rotation for a file-based key: the current key
// is appended to dataDir/secret.key.old, a new key replaces secret.key, and
// the returned keyring seals with the new key while still opening with every
// old one. The caller then Reseals every ciphertext and, once all are done,
// calls RetireOldKeys. A crash in between loses nothing: both files are
// written atomically and the old key is saved before the new one replaces it.
func RotateKeyFile(dataDir string) (*Keyring, error) {
	path := filepath.Join(dataDir, KeyFileName)
	cur, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	oldPath := filepath.Join(dataDir, OldKeyFileName)
	olds, err := readOldKeys(oldPath)
	if err != nil {
		return nil, err
	}
	olds = append(olds, cur)
	var buf strings.Builder
	buf.WriteString("# retired CareVoice keys, kept until every row is re-encrypted\n")
	for _, k := range olds {
		buf.WriteString(EncodeKey(k) + "\n")
	}
	if err := writeFileAtomic(oldPath, []byte(buf.String())); err != nil {
		return nil, err
	}
	next := GenerateKey()
	if err := WriteKeyFile(path, next); err != nil {
		return nil, err
	}
	return NewKeyring(next, olds...)
}

// RetireOldKeys deletes dataDir/secret.key.old. Call it only after every
// ciphertext has been resealed: data still under a retired key is lost.
func RetireOldKeys(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, OldKeyFileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secure: retire old keys: %w", err)
	}
	return nil
}

// MAC returns HMAC-SHA256 of msg under the current signing sub-key. The
// purpose string separates uses so a MAC made for one (say a cookie) is never
// accepted for another (say a CSRF token).
func (kr *Keyring) MAC(purpose string, msg []byte) []byte {
	return mac(kr.current.sign, purpose, msg)
}

// VerifyMAC checks a MAC from MAC against every key in the ring in constant
// time, so values signed before a rotation keep working until they expire.
func (kr *Keyring) VerifyMAC(purpose string, msg, sum []byte) bool {
	ok := false
	for _, k := range kr.all {
		// Check every key, without an early return, so timing does not say
		// which key matched.
		if hmac.Equal(mac(k.sign, purpose, msg), sum) {
			ok = true
		}
	}
	return ok
}

func mac(key []byte, purpose string, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	// Length-prefix the purpose so ("ab", "c") and ("a", "bc") differ.
	fmt.Fprintf(h, "%d:%s:", len(purpose), purpose)
	h.Write(msg)
	return h.Sum(nil)
}

// SignValue returns value with a MAC appended ("value.mac", base64url), for
// cookies and other values that travel through the client.
func (kr *Keyring) SignValue(purpose, value string) string {
	return value + "." + base64.RawURLEncoding.EncodeToString(kr.MAC(purpose, []byte(value)))
}

// VerifyValue returns the value inside a SignValue result and whether its MAC
// is valid.
func (kr *Keyring) VerifyValue(purpose, signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	sum, err := base64.RawURLEncoding.DecodeString(signed[i+1:])
	if err != nil {
		return "", false
	}
	value := signed[:i]
	if !kr.VerifyMAC(purpose, []byte(value), sum) {
		return "", false
	}
	return value, true
}
