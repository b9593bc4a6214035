package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Markers around the part of the benchmarks page that each full run
// rewrites. Everything outside them is written by hand.
const (
	docsBegin = "<!-- bench:results:begin (written by `make bench`; edits between these markers are lost) -->"
	docsEnd   = "<!-- bench:results:end -->"
)

// updateDocs replaces the text between the markers of the page at path
// with generated, keeping the rest of the page.
func updateDocs(path, generated string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	page, err := replaceBetween(string(data), generated)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(page), 0o644)
}

func replaceBetween(page, generated string) (string, error) {
	begin := strings.Index(page, docsBegin)
	end := strings.Index(page, docsEnd)
	if begin < 0 || end < begin {
		return "", fmt.Errorf("no generated section: add the lines %q and %q where the results go", docsBegin, docsEnd)
	}
	head := page[:begin+len(docsBegin)]
	return head + "\n\n" + strings.TrimSpace(generated) + "\n\n" + page[end:], nil
}

// relativeLink returns the path of target relative to the folder of
// page, with forward slashes, for a Markdown link.
func relativeLink(page, target string) string {
	rel, err := filepath.Rel(filepath.Dir(page), target)
	if err != nil {
		return target
	}
	return filepath.ToSlash(rel)
}
