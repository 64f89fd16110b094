// Package static embeds the CSS, scripts and vendored files served under
// /static, with a content hash in each URL so browsers may cache forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed css js vendor
var files embed.FS

// File is one embedded asset.
type File struct {
	Data []byte
	Type string
	Hash string // first 12 hex digits of the SHA-256 of Data
}

// Assets maps a path such as "css/app.css" to its file.
type Assets map[string]File

// Load reads every embedded asset once; browser-test files (vendor/test)
// are left out so that production never serves them.
func Load() (Assets, error) {
	a := Assets{}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, "vendor/test/") || strings.HasSuffix(p, ".md") {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		t := mime.TypeByExtension(path.Ext(p))
		if t == "" {
			t = "application/octet-stream"
		}
		a[p] = File{Data: b, Type: t, Hash: hex.EncodeToString(h[:6])}
		return nil
	})
	return a, err
}

// URL returns the cache-busting URL of an asset: /static/<hash>/<path>.
func (a Assets) URL(p string) string {
	if f, ok := a[p]; ok {
		return "/static/" + f.Hash + "/" + p
	}
	return "/static/missing/" + p
}

// TestFile returns a browser-test-only vendored file (such as axe-core).
func TestFile(p string) ([]byte, error) { return files.ReadFile("vendor/test/" + p) }
