package configs

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// maxDecodedNodes bounds the work of one decode. Aliases let a small file
// expand into many values ("billion laughs"), and the decoder walks every
// expansion, so it stops here. Ten thousand users at about ten values
// each use a tenth of this budget.
const maxDecodedNodes = 1 << 20

// decoder fills Go values from a yaml.Node tree, checking every key against
// the yaml tags of the target struct. It keeps going after an error, so one
// run reports every problem in the file.
type decoder struct {
	file   string
	pos    positions
	errs   []*FieldError
	budget int
	// open contains the nodes an alias or merge key is decoding now.
	// Meeting one again means the node contains an alias to itself, which
	// would recurse without end.
	open map[*yaml.Node]bool
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:   file,
		pos:    positions{lines: map[string]int{}, zeros: map[string]bool{}},
		budget: maxDecodedNodes,
		open:   map[*yaml.Node]bool{},
	}
}

// enter marks target as being decoded through an alias, and reports false
// with an error when it already is.
func (d *decoder) enter(alias, target *yaml.Node, path string) bool {
	if d.open[target] {
		d.fail(alias.Line, path, "alias *%s refers to a value that contains it; an anchor cannot be used inside its own value", alias.Value)
		return false
	}
	d.open[target] = true
	return true
}

func (d *decoder) fail(line int, path, format string, args ...any) {
	e := &FieldError{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
	for _, old := range d.errs {
		if *old == *e {
			return // an alias can bring the same problem back many times
		}
	}
	d.errs = append(d.errs, e)
}

// spend counts one decoded node and reports whether the budget allows it.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	d.budget--
	if d.budget == -1 {
		d.fail(n.Line, path, "the file expands to more than %d values through aliases; write the values out or use fewer aliases", maxDecodedNodes)
	}
	return d.budget >= 0
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode fills v, which must be addressable, from n.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.enter(n, n.Alias, path) {
			d.decode(n.Alias, v, path)
			delete(d.open, n.Alias)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the default in place
	}

	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(n.Line, path, "%s", err.Error())
		}
		d.noteZero(v, path)
		return
	}

	switch v.Kind() {
	case reflect.Pointer:
		target := reflect.New(v.Type().Elem())
		d.decode(n, target.Elem(), path)
		v.Set(target)
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.String:
		d.text(n, v, path)
	case reflect.Int:
		d.number(n, v, path)
	case reflect.Bool:
		d.boolean(n, v, path)
	default:
		// Only a schema change can get here: a field type this switch lacks.
		panic("configs: no decoder for " + v.Type().String() + " at " + path)
	}
}

func (d *decoder) noteZero(v reflect.Value, path string) {
	if v.IsZero() {
		d.pos.zeros[path] = true
	}
}

// mapping fills the struct v from a YAML mapping. Merge keys ("<<: *base")
// are applied first, so keys written in the mapping itself win.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	fields := structFields(v.Type())
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, path, "expected a mapping with keys such as %s, found %s; write one key: value pair per line below %s",
			exampleKeys(fields.names), describeNode(n), displayPath(path))
		return
	}

	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMergeKey(n.Content[i]) {
			d.merge(n.Content[i+1], v, path)
		}
	}

	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if isMergeKey(key) {
			continue
		}
		if key.Kind != yaml.ScalarNode {
			d.fail(key.Line, path, "a key is %s; keys must be plain names such as %s", describeNode(key), exampleKeys(fields.names))
			continue
		}
		child := childPath(path, key.Value)
		if first, dup := seen[key.Value]; dup {
			d.fail(key.Line, child, "key is written twice, first at line %d; remove one of them", first)
			continue
		}
		seen[key.Value] = key.Line
		index, known := fields.index[key.Value]
		if !known {
			d.fail(key.Line, child, "%s", unknownKeyMessage(key.Value, fields.names))
			continue
		}
		d.pos.lines[child] = key.Line
		d.decode(value, v.Field(index), child)
	}
}

// merge applies the value of a "<<" key: one mapping, or a list of mappings
// where earlier ones win, as the YAML merge key type defines.
func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		if !d.enter(n, n.Alias, path) {
			return
		}
		defer delete(d.open, n.Alias)
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		d.mapping(n, v, path)
		return
	}
	for i := len(n.Content) - 1; i >= 0; i-- {
		if !d.spend(n.Content[i], path) {
			return
		}
		item := n.Content[i]
		if item.Kind == yaml.AliasNode {
			if !d.enter(item, item.Alias, path) {
				continue
			}
			d.mapping(item.Alias, v, path)
			delete(d.open, item.Alias)
			continue
		}
		d.mapping(item, v, path)
	}
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" && n.ShortTag() == "!!merge"
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n.Line, path, "expected a list, found %s; write a list such as [a, b] or one \"- item\" line per entry", describeNode(n))
		return
	}
	list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		itemPath := indexPath(path, i)
		d.pos.lines[itemPath] = item.Line
		d.decode(item, list.Index(i), itemPath)
	}
	v.Set(list)
}

func (d *decoder) text(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n.Line, path, "expected a text value, found %s; write a single value on the same line as the key", describeNode(n))
		return
	}
	v.SetString(n.Value)
	d.noteZero(v, path)
}

func (d *decoder) number(n *yaml.Node, v reflect.Value, path string) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.fail(n.Line, path, "expected a whole number, found %s; write a number such as 3", describeNode(n))
		return
	}
	v.SetInt(int64(i))
	d.noteZero(v, path)
}

func (d *decoder) boolean(n *yaml.Node, v reflect.Value, path string) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		d.fail(n.Line, path, "expected true or false, found %s; write true or false", describeNode(n))
		return
	}
	v.SetBool(b)
	d.noteZero(v, path)
}

// describeNode names what a node is, for "expected X, found Y" messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias *" + n.Value
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", shorten(n.Value, 60))
	default:
		return "an empty document"
	}
}

// shorten cuts s to at most limit bytes for display, marking the cut.
func shorten(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

func displayPath(path string) string {
	if path == "" {
		return "the top level"
	}
	return path
}
