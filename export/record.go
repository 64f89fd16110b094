package export

import (
	"bufio"
	"strings"
)

// recordWriter writes RFC 4180 records ending in CRLF. encoding/csv in CRLF
// mode rewrites the line breaks inside a quoted field (LF becomes CRLF and a
// lone CR is dropped), which changes what the patient wrote; here a field's
// bytes go out exactly as stored, quotes doubled.
type recordWriter struct {
	w *bufio.Writer
}

// fieldNeedsQuotes follows encoding/csv: a comma, quote, CR or LF anywhere,
// or a leading space or tab, which some readers would trim.
func fieldNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == ' ' || f[0] == '\t' {
		return true
	}
	return strings.ContainsAny(f, ",\"\r\n")
}

func (r *recordWriter) Write(rec []string) error {
	for i, f := range rec {
		if i > 0 {
			r.w.WriteByte(',')
		}
		if !fieldNeedsQuotes(f) {
			r.w.WriteString(f)
			continue
		}
		r.w.WriteByte('"')
		for {
			j := strings.IndexByte(f, '"')
			if j < 0 {
				r.w.WriteString(f)
				break
			}
			r.w.WriteString(f[:j+1])
			r.w.WriteByte('"')
			f = f[j+1:]
		}
		r.w.WriteByte('"')
	}
	_, err := r.w.WriteString("\r\n")
	return err
}
