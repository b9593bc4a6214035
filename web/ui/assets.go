package ui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
)

//go:embed static
var staticFiles embed.FS

// asset is one embedded static file with the version that its URL carries.
type asset struct {
	body        []byte
	contentType string
	version     string // first 12 hex digits of the SHA-256 of body
}

// assets are the files under static/, by name, read once at start.
var assets = loadAssets()

func loadAssets() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(staticFiles, "static")
	if err != nil {
		panic("ui: reading the embedded static folder: " + err.Error())
	}
	for _, e := range entries {
		body, err := staticFiles.ReadFile("static/" + e.Name())
		if err != nil {
			panic("ui: reading embedded static/" + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{
			body:        body,
			contentType: mime.TypeByExtension(path.Ext(e.Name())),
			version:     hex.EncodeToString(sum[:])[:12],
		}
	}
	return out
}

// assetURL returns the URL of a static file with its content version, so
// browsers may cache it for good and still get a changed file at once.
func assetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("ui: a template names the static file " + name + ", which is not embedded")
	}
	return "/static/" + name + "?v=" + a.version
}

// serveStatic handles GET /static/{name}.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(a.body) // a failed write means the browser went away
}
