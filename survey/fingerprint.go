package survey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Fingerprint is a digest of everything a submission says, used to tell an
// identical retry (same id, same fingerprint) from a conflicting reuse of an id.
//
// The digest is of the JSON that encoding/json makes of
//
//	struct {
//		Survey, Site, Department, Provider, Channel, Token, Lang string
//		Answers []any // [question, value] pairs
//		Contact *Contact
//	}
//
// written out by hand: every submission pays for it, and reflection over
// []any was 2 % of the server's CPU under load. Stored responses hold
// fingerprints made by json.Marshal, so the bytes must stay the same: a
// test and a fuzz target compare the two.
func Fingerprint(s *Submission, answers []Parsed) string {
	b := make([]byte, 0, 512)
	for _, f := range [...]struct{ key, val string }{
		{`{"Survey":`, s.Survey}, {`,"Site":`, s.Site}, {`,"Department":`, s.Department},
		{`,"Provider":`, s.Provider}, {`,"Channel":`, s.Channel}, {`,"Token":`, s.Token}, {`,"Lang":`, s.Lang},
	} {
		b = append(b, f.key...)
		b = appendJSONString(b, f.val)
	}
	b = append(b, `,"Answers":`...)
	if len(answers) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range answers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, a.Question)
			b = append(b, ',')
			b = appendJSONValue(b, a.Value())
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	b = append(b, `,"Contact":`...)
	if c := s.Contact; c.Empty() {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"ok_to_contact":`...)
		b = strconv.AppendBool(b, c.OKToContact)
		for _, f := range [...]struct{ key, val string }{{`,"name":`, c.Name}, {`,"phone":`, c.Phone}, {`,"email":`, c.Email}} {
			if f.val != "" { // omitempty
				b = append(b, f.key...)
				b = appendJSONString(b, f.val)
			}
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// appendJSONValue appends an answer's value (Parsed.Value) as JSON.
func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	case string:
		return appendJSONString(b, v)
	case []string:
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']')
	}
	j, _ := json.Marshal(v) // a type Value doesn't make today
	return append(b, j...)
}

// appendJSONString appends s as encoding/json writes a string with HTML
// escaping (its default): <, > and & as \u003c…, control characters, U+2028
// and U+2029 escaped, invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
