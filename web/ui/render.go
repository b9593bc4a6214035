package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/jitgate/jitgate/identity"
	"github.com/jitgate/jitgate/internal/clock"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the templates/NAME.html files. Each defines "content",
// which is rendered inside templates/layout.html.
var pageNames = []string{"login", "pending", "request", "audit", "grants", "error"}

// layout is the data of every page: the frame around the content, and
// Body for the content itself.
type layout struct {
	Title  string
	Person *identity.Person // nil on the sign-in and error pages of strangers
	// FormToken goes into every form that a signed-in person sends.
	FormToken string
	// Nav is the navigation entry to highlight: requests or grants.
	Nav   string
	Error string
	Body  any
}

// pages holds the parsed templates by page name.
type pages struct {
	byName map[string]*template.Template
}

// parsePages parses every page with the layout. Relative times are
// measured on c.
func parsePages(c clock.Clock) (*pages, error) {
	funcs := template.FuncMap{
		"when":     formatTime,
		"duration": formatDuration,
		"short":    shortHash,
		"kind":     kindName,
		"label":    principalLabel,
		"asset":    assetURL,
		"ago":      func(t time.Time) string { return relative(c.Now(), t) },
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: parsing the template of page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// render executes page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, page string, data layout) {
	u.execute(w, r, status, page, "layout", data)
}

// renderFragment executes one named template of page without the layout.
func (u *ui) renderFragment(w http.ResponseWriter, r *http.Request, page, fragment string, data any) {
	u.execute(w, r, http.StatusOK, page, fragment, data)
}

func (u *ui) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t, ok := u.pages.byName[page]
	if !ok {
		panic("ui: no page template " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		u.requestLogger(r).Error("rendering a page failed", "page", page, "template", name, "err", err)
		http.Error(w, "internal error: a page could not be rendered; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w) // a failed write means the browser went away
}

// renderError shows message on a page of its own with status. A signed-in
// viewer keeps the navigation.
func (u *ui) renderError(w http.ResponseWriter, r *http.Request, status int, message string) {
	data := layout{Title: http.StatusText(status), Body: message}
	if in, person := u.currentSignIn(r); in != nil {
		data.Person, data.FormToken = person, in.formToken
	}
	u.render(w, r, status, "error", data)
}

// page renders a page for the signed-in person of v.
func (v *visit) page(u *ui, status int, page string, data layout) error {
	data.Person = v.person
	data.FormToken = v.signIn.formToken
	u.render(v.w, v.r, status, page, data)
	return nil
}
