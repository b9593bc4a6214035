package configs

import (
	"reflect"
	"strings"
	"sync"
)

// fieldSet maps the yaml keys of one struct type to field indexes.
type fieldSet struct {
	index map[string]int
	names []string // in declaration order, for messages
}

var fieldSets sync.Map // reflect.Type → fieldSet

func structFields(t reflect.Type) fieldSet {
	if cached, ok := fieldSets.Load(t); ok {
		return cached.(fieldSet)
	}
	set := fieldSet{index: map[string]int{}}
	for i := range t.NumField() {
		name := yamlKey(t.Field(i))
		if name == "" {
			continue
		}
		set.index[name] = i
		set.names = append(set.names, name)
	}
	fieldSets.Store(t, set)
	return set
}

// yamlKey returns the key a struct field is written as, or "" for fields
// that are not in the file (unexported, or tagged "-").
func yamlKey(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

func exampleKeys(names []string) string {
	if len(names) > 3 {
		names = names[:3]
	}
	return strings.Join(names, ", ")
}
