package configs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestDocCoversEveryKey fails when docs/configuration.md does not mention a
// key path of Config, written in backticks as `contracts[].approval.quorum`.
func TestDocCoversEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatalf("reading the configuration doc: %v", err)
	}
	text := string(doc)

	for _, path := range keyPaths(reflect.TypeFor[Config](), "") {
		if !strings.Contains(text, "`"+path+"`") {
			t.Errorf("docs/configuration.md does not mention `%s`", path)
		}
	}
}

// keyPaths lists every key path of t by its yaml tags. A list of mappings
// contributes "name[]", and its keys follow as "name[].key".
func keyPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for i := range t.NumField() {
		key := yamlKey(t.Field(i))
		if key == "" {
			continue
		}
		path := childPath(prefix, key)
		fieldType := t.Field(i).Type
		for fieldType.Kind() == reflect.Pointer {
			fieldType = fieldType.Elem()
		}
		if fieldType.Kind() == reflect.Slice && isSection(fieldType.Elem()) {
			path += "[]"
			fieldType = fieldType.Elem()
		}
		paths = append(paths, path)
		if isSection(fieldType) {
			paths = append(paths, keyPaths(fieldType, path)...)
		}
	}
	return paths
}

// isSection reports whether t is written as a mapping of keys, as opposed
// to a single value such as a Duration or a Date.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType)
}

func TestKeyPathsWalksNestedLists(t *testing.T) {
	paths := keyPaths(reflect.TypeFor[Config](), "")
	for _, want := range []string{"contracts[]", "contracts[].approval.stages[].quorum", "contracts[].window.hours.time_zone", "targets.postgres[].service_role.user"} {
		if !containsPath(paths, want) {
			t.Errorf("keyPaths lacks %s", want)
		}
	}
}

func containsPath(paths []string, want string) bool {
	for _, p := range paths {
		if p == want {
			return true
		}
	}
	return false
}
