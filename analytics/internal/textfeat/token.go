// Package textfeat turns a patient comment into tokens, clauses and hashed
// features. The analyzer and the model trainer share it, so that the features a
// model was trained on are exactly the features it is scored on.
//
// Everything here works on byte offsets into the original text: evidence shown
// to a manager must be a slice of what the patient wrote, not of a cleaned copy.
package textfeat

import (
	"unicode"
	"unicode/utf8"
)

// Token kinds.
const (
	KindWord  uint8 = iota
	KindNum         // digits; normalised to one feature so "35 minutes" and "40 minutes" agree
	KindEmoji       // pictographs carry sentiment of their own
	KindPunct       // clause and sentence boundaries; never a feature by itself
)

// Token is one word, number, emoji or boundary mark of the text.
type Token struct {
	Start, End int    // byte offsets in the original text
	Hash       uint64 // hash of the normalised form (lowercase, apostrophes dropped, spelling fixed)
	Stem       uint64 // hash of a crude stem ("waiting", "waited" → "wait"); 0 when it equals the word
	Kind       uint8
	Caps       bool // written in capitals (3+ letters): emphasis
	Punct      byte // for KindPunct: '.', '!', '?', ',', ';', ':', '\n', '-', '(' or ')'
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// HashString is the token hash of an already normalised word; lexicons and the
// trainer use it to name features.
func HashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return mix(h)
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return mix(h)
}

// mix spreads FNV's weak low bits so that the hash can index a power-of-two table.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// cp1252 maps the characters that Windows-1252 puts in 0x80..0x9F back to their
// byte; it undoes the double encoding behind marks such as "â€™".
var cp1252 = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91,
	'’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98,
	'™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// demojibake decodes s as UTF-8 that was wrongly read as Windows-1252 and
// re-encoded, possibly more than once. It returns s unchanged when s is not such
// a sequence. buf is scratch space.
func demojibake(s string, buf []byte) string {
	for round := 0; round < 3; round++ {
		buf = buf[:0]
		for _, r := range s {
			switch {
			case r >= 0xA0 && r <= 0xFF:
				buf = append(buf, byte(r))
			case r >= 0x80 && r < 0xA0:
				buf = append(buf, byte(r))
			default:
				b, ok := cp1252[r]
				if !ok {
					return s
				}
				buf = append(buf, b)
			}
		}
		if !utf8.Valid(buf) || len(buf) == len(s) {
			return s
		}
		s = string(buf)
	}
	return s
}

// Tokenize appends the tokens of text to toks. scratch holds normalised bytes.
func (x *Extractor) Tokenize(text string, toks []Token, scratch []byte) ([]Token, []byte) {
	var word []byte // normalised form of the word being read
	wordStart, wordCaps, wordLetters := -1, 0, 0
	flush := func(end int) {
		if wordStart < 0 {
			return
		}
		kind := KindWord
		allDigits := true
		for _, c := range word {
			if c < '0' || c > '9' {
				allDigits = false
				break
			}
		}
		var h uint64
		if allDigits {
			kind = KindNum
			h = hashNum
		} else {
			h = x.canonical(hashBytes(word))
		}
		var stem uint64
		if st := stemOf(word); kind == KindWord && len(st) < len(word) {
			stem = hashBytes(st)
		}
		toks = append(toks, Token{Start: wordStart, End: end, Hash: h, Stem: stem, Kind: kind,
			Caps: wordLetters >= 3 && wordCaps == wordLetters})
		wordStart, wordCaps, wordLetters = -1, 0, 0
		word = word[:0]
	}
	word = scratch[:0]
	var mbuf [64]byte
	i := 0
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				if wordStart < 0 {
					wordStart = i
				}
				if c >= 'a' {
					wordLetters++
				}
				word = append(word, c)
			case c >= 'A' && c <= 'Z':
				if wordStart < 0 {
					wordStart = i
				}
				wordLetters++
				wordCaps++
				word = append(word, c+'a'-'A')
			case c == '\'' || c == '`':
				// An apostrophe inside a word is dropped ("didn't" reads "didnt");
				// elsewhere it is a quote mark and ends the word.
				if !(wordStart >= 0 && i+1 < len(text) && isASCIILetter(text[i+1])) {
					flush(i)
				}
			case c == '&':
				flush(i)
				toks = append(toks, Token{Start: i, End: i + 1, Hash: hashAnd, Kind: KindWord})
			default:
				flush(i)
				if c == '-' && i > 0 && i+1 < len(text) && isASCIILetter(text[i-1]) && isASCIILetter(text[i+1]) {
					// "x-ray", "follow-up": two words, no boundary between them.
					break
				}
				if p := punctOf(c); p != 0 {
					// Runs of the same mark ("!!!", "...") are one token whose length counts.
					j := i + 1
					for j < len(text) && text[j] == c {
						j++
					}
					toks = append(toks, Token{Start: i, End: j, Kind: KindPunct, Punct: p})
					i = j
					continue
				}
			}
			i++
			continue
		}
		// A run of non-ASCII characters: first undo stray encoding, then classify.
		j := i
		for j < len(text) && text[j] >= utf8.RuneSelf && j-i < 48 {
			_, n := utf8.DecodeRuneInString(text[j:])
			j += n
		}
		run := demojibake(text[i:j], mbuf[:0])
		for _, r := range run {
			switch {
			case r == '’' || r == '‘' || r == 'ʼ' || r == '´':
				if !(wordStart >= 0 && j < len(text) && isASCIILetter(text[j])) {
					flush(i)
				}
			case unicode.IsLetter(r):
				if wordStart < 0 {
					wordStart = i
				}
				wordLetters++
				if unicode.IsUpper(r) {
					wordCaps++
				}
				word = utf8.AppendRune(word, unicode.ToLower(r))
			case isEmoji(r):
				flush(i)
				toks = append(toks, Token{Start: i, End: j, Hash: HashString(string(r)), Kind: KindEmoji})
			case r == '…':
				flush(i)
				toks = append(toks, Token{Start: i, End: j, Kind: KindPunct, Punct: '.'})
			case r == '–' || r == '—':
				flush(i)
				toks = append(toks, Token{Start: i, End: j, Kind: KindPunct, Punct: '-'})
			case r == '¡' || r == '¿':
				flush(i)
			default:
				flush(i)
			}
		}
		i = j
	}
	flush(len(text))
	return toks, word
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func punctOf(c byte) byte {
	switch c {
	case '.', '!', '?', ',', ';', ':', '(', ')', '-':
		return c
	case '\n', '\r':
		return '\n'
	case '/':
		return ','
	}
	return 0
}

func isEmoji(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF) || r == 0x2B50
}

// stemOf strips the commonest English suffixes. It is deliberately crude: the
// stem is an extra feature beside the word, so that "waits", "waited" and
// "waiting" share what the few labelled examples teach.
func stemOf(w []byte) []byte {
	n := len(w)
	switch {
	case n > 5 && string(w[n-3:]) == "ing":
		return w[:n-3]
	case n > 4 && string(w[n-2:]) == "ed":
		return w[:n-2]
	case n > 5 && string(w[n-2:]) == "ly":
		return w[:n-2]
	case n > 4 && string(w[n-3:]) == "ies":
		return w[:n-3]
	case n > 3 && w[n-1] == 's' && w[n-2] != 's' && w[n-2] != 'u':
		return w[:n-1]
	case n > 4 && w[n-1] == 'e':
		return w[:n-1]
	}
	return w
}
