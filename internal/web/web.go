// Package web serves hookd's dashboard and embeddable portal: a small
// single-page app (plain ES modules, no build step) embedded in the
// binary and served under a strict Content-Security-Policy. The page talks
// to hookd only through the public API, with the token its user gives it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed assets
var assets embed.FS

// Options configure the dashboard's handler.
type Options struct {
	// FrameAncestors are the origins that may show the dashboard in a
	// frame (CSP frame-ancestors); empty means 'self'.
	FrameAncestors []string
}

// file is one embedded asset, ready to serve.
type file struct {
	body, gzipped []byte
	contentType   string
	etag          string
}

// handler serves the embedded assets.
type handler struct {
	files map[string]*file // by URL path
	csp   string
}

// Handler returns the dashboard's handler: GET / is the page, GET
// /assets/NAME its files. Every answer carries the Content-Security-Policy.
func Handler(opts Options) http.Handler {
	h := &handler{files: map[string]*file{}, csp: policy(opts.FrameAncestors)}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		h.files["/"+p] = newFile(p, body)
		return nil
	})
	if err != nil {
		panic("web: embedded assets: " + err.Error()) // the build embedded them
	}
	h.files["/"] = h.files["/assets/index.html"]
	h.files["/index.html"] = h.files["/"]
	return h
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	f.contentType = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		f.contentType = "text/javascript; charset=utf-8"
	case ".LICENSE", ".txt":
		f.contentType = "text/plain; charset=utf-8"
	case "":
		f.contentType = "application/octet-stream"
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	if buf.Len() < len(body) {
		f.gzipped = buf.Bytes()
	}
	return f
}

// policy is the Content-Security-Policy of every dashboard answer: only
// this origin's scripts, styles and connections, no inline code, and
// frames only by the given ancestors.
func policy(ancestors []string) string {
	fa := "'self'"
	if len(ancestors) > 0 {
		fa = strings.Join(ancestors, " ")
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + fa
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	f := h.files[r.URL.Path]
	if f == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	hd.Set("Content-Type", f.contentType)
	// Revalidate every time: a new binary may bring new files under the
	// same names, and an unchanged file costs only a 304.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	hd.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gzipped != nil && acceptsGzip(r) {
		hd.Set("Content-Encoding", "gzip")
		body = f.gzipped
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
