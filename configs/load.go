package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads, decodes, completes with defaults and validates the config
// file at path. Relative paths inside the file are resolved against the
// file's folder. Problems in the file come back as *FieldError values
// joined with errors.Join, in file order.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("configs: resolving the folder of %s: %w", path, err)
	}
	return parse(path, dir, data)
}

// Parse does what Load does for a config already in memory. name is used in
// error messages, and relative paths are resolved against its folder.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, filepath.Dir(name), data)
}

// parse runs the three steps: strict decoding, defaults, validation.
// Validation runs only on a file that decoded cleanly, because checks on
// half-decoded values would add confusing follow-on errors.
func parse(name, dir string, data []byte) (*Config, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}

	cfg := &Config{}
	d := newDecoder(name)
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	}
	if err := joinFieldErrors(d.errs); err != nil {
		return nil, err
	}

	cfg.Path = name
	applyDefaults(cfg, dir)
	if err := validate(cfg, name, d.pos); err != nil {
		return nil, err
	}
	return cfg, nil
}

// parseYAML returns the top node of the single YAML document in data, or
// nil for a file without content.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := decoder.Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, syntaxError(name, err)
	}

	var extra yaml.Node
	switch err := decoder.Decode(&extra); {
	case err == nil:
		return nil, &FieldError{File: name, Line: extra.Line,
			Msg: "a second YAML document starts here; a config file contains one document, so remove the --- line and merge the two"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(name, err)
	}

	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return nil, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of the YAML parser stage. For these,
// go.yaml.in/yaml/v3 (v3.0.6, parser.fail in decode.go) reports the
// 0-based line of the mark, one less than the editor line, and no line at
// all for a mark on the first line. Messages from the scanner stage carry
// the right 1-based line.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected key":              true,
	"did not find expected '-' indicator":    true,
	"did not find expected node content":     true,
	"did not find expected <document start>": true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError turns a YAML parser error ("yaml: line 3: ...") into a
// FieldError with the 1-based line in its field. For an unclosed bracket
// the line is usually where the bracket opened, not where the parser
// noticed the problem.
func syntaxError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if parserProblems[msg] {
		line++
	}
	return &FieldError{File: name, Line: line,
		Msg: fmt.Sprintf("invalid YAML: %s; check indentation (spaces, not tabs), quoting and brackets on or after this line", msg)}
}
