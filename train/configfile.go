package train

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/shenml/shen/internal/safeio"
)

// ConfigError is a config problem at a position in the file.
type ConfigError struct {
	File string
	Line int
	// Key is the dotted key at fault, e.g. "model.hidden" or
	// "data.features[2].type".
	Key string
	Msg string
}

// Error formats the error as file:line: key: message.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadConfig reads and checks the config file at path.
func LoadConfig(path string) (*Config, error) {
	b, err := safeio.ReadFile(path, safeio.MaxConfig)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig decodes YAML config bytes strictly and checks them (see
// Config.Validate). name is used in messages and to resolve data paths.
func ParseConfig(name string, b []byte) (*Config, error) { return parseConfig(name, b, nil) }

func parseConfig(name string, b []byte, sets []Override) (*Config, error) {
	cfg := &Config{File: name, Raw: b, lines: map[string]int{}}
	// Bound nesting and alias expansion before any parser or decoder
	// recurses over the document: a 1 KB alias bomb must fail at once.
	if ye, ok := errors.AsType[*safeio.YAMLError](safeio.CheckYAML(b)); ok {
		return nil, &ConfigError{File: name, Line: ye.Line, Msg: ye.Msg}
	}
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, yamlError(name, err, nil)
	}
	idx := &keyIndex{}
	for _, d := range f.Docs {
		if d.Body != nil {
			idx.walk(d.Body, "")
		}
	}
	if len(f.Docs) > 1 {
		return nil, &ConfigError{File: name, Msg: "holds more than one YAML document"}
	}
	for _, e := range idx.keys {
		if _, ok := cfg.lines[e.path]; !ok {
			cfg.lines[e.path] = e.line
		}
	}
	if err := decodeStrict(b, cfg); err != nil {
		return nil, yamlError(name, err, idx)
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, &ConfigError{File: name, Msg: "is empty"}
	}
	if _, ok := f.Docs[0].Body.(*ast.MappingNode); !ok {
		if _, ok := f.Docs[0].Body.(*ast.MappingValueNode); !ok {
			return nil, &ConfigError{File: name, Line: 1, Msg: "must be a mapping with data, model and train sections"}
		}
	}
	if err := cfg.applyOverrides(sets); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeStrict decodes b into cfg, rejecting unknown keys. go-yaml can
// panic on some malformed input (found by FuzzConfig); that becomes an error.
func decodeStrict(b []byte, cfg *Config) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decode this YAML (%v)", r)
		}
	}()
	return yaml.UnmarshalWithOptions(b, cfg, yaml.Strict())
}

// keyIndex maps positions in the YAML source to dotted key paths.
type keyIndex struct {
	keys []keyPos
}

type keyPos struct {
	line, col int
	path      string
	key       bool
}

func (x *keyIndex) add(tk *token.Token, path string, key bool) {
	if tk == nil || tk.Position == nil {
		return
	}
	x.keys = append(x.keys, keyPos{tk.Position.Line, tk.Position.Column, path, key})
}

func (x *keyIndex) walk(n ast.Node, path string) {
	switch v := n.(type) {
	case *ast.MappingNode:
		for _, mv := range v.Values {
			x.walk(mv, path)
		}
	case *ast.MappingValueNode:
		k := joinKey(path, v.Key.String())
		x.add(v.Key.GetToken(), k, true)
		if v.Value != nil {
			x.walk(v.Value, k)
		}
	case *ast.SequenceNode:
		for i, e := range v.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e != nil {
				x.add(e.GetToken(), p, false)
				x.walk(e, p)
			}
		}
	case *ast.TagNode:
		if v.Value != nil {
			x.walk(v.Value, path)
		}
	case *ast.AnchorNode:
		if v.Value != nil {
			x.walk(v.Value, path)
		}
	case nil:
	default:
		x.add(n.GetToken(), path, false)
	}
}

// find returns the key path of the token at (line, col), or of the last
// key starting on that line.
func (x *keyIndex) find(line, col int) string {
	best := ""
	for _, k := range x.keys {
		if k.line == line && k.col == col {
			return k.path
		}
	}
	for _, k := range x.keys {
		if k.line == line && k.key {
			best = k.path
		}
	}
	return best
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// yamlError turns a go-yaml error into a ConfigError.
func yamlError(file string, err error, idx *keyIndex) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return &ConfigError{File: file, Msg: err.Error()}
	}
	ce := &ConfigError{File: file, Msg: ye.GetMessage()}
	tk := ye.GetToken()
	if tk != nil && tk.Position != nil {
		ce.Line = tk.Position.Line
		if idx != nil {
			ce.Key = idx.find(tk.Position.Line, tk.Position.Column)
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		ce.Msg = fmt.Sprintf("want %s, got %s", yamlType(te.DstType), strings.TrimSuffix(te.SrcType.String(), "Node"))
		if tk != nil && tk.Value != "" {
			ce.Msg += fmt.Sprintf(" %q", tk.Value)
		}
	}
	var ue *yaml.UnknownFieldError
	if errors.As(err, &ue) {
		if tk != nil {
			ce.Key = joinKey(parentKey(ce.Key), tk.Value)
		}
		ce.Msg = "unknown key" + keyHint(ce.Key)
	}
	var oe *yaml.OverflowError
	if errors.As(err, &oe) {
		ce.Msg = fmt.Sprintf("%s does not fit in %s", oe.SrcNum, yamlType(oe.DstType))
	}
	return ce
}

func parentKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

// yamlType names a Go type the way a config author thinks of it.
func yamlType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return yamlType(t.Elem())
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// errAt returns a ConfigError for key, at the line of key or of its
// nearest parent present in the file.
func (c *Config) errAt(key, format string, args ...any) error {
	line := 0
	for k := key; k != ""; k = parentKey(trimIndex(k)) {
		if l, ok := c.lines[k]; ok {
			line = l
			break
		}
		if l, ok := c.lines[trimIndex(k)]; ok {
			line = l
			break
		}
	}
	return &ConfigError{File: c.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

func trimIndex(k string) string {
	if strings.HasSuffix(k, "]") {
		if i := strings.LastIndexByte(k, '['); i >= 0 {
			return k[:i]
		}
	}
	return k
}

// DataPath resolves p against the config file's folder.
func (c *Config) DataPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// Tabular reports whether the data format is a table of columns.
func (c *Config) Tabular() bool {
	switch c.Data.Format {
	case "csv", "tsv", "jsonl", "sklearn_csv":
		return true
	}
	return false
}

// keyHint suggests the key a misspelt one was meant to be and lists the
// keys valid beside it: ` (did you mean "epochs"? keys here: ...)`.
func keyHint(key string) string {
	t := typeAt(reflect.TypeFor[Config](), parentKey(key))
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	names := tagNames(t)
	leaf := key[strings.LastIndexByte(key, '.')+1:]
	hint := " ("
	if s := suggest(leaf, names); s != "" {
		hint += fmt.Sprintf("did you mean %q? ", s)
	}
	return hint + "keys here: " + strings.Join(names, ", ") + ")"
}

// typeAt returns the type of the value at a dotted config key ("" is the
// whole config), looking through pointers, list indices and maps; nil for
// a key that leads nowhere.
func typeAt(t reflect.Type, key string) reflect.Type {
	for _, part := range strings.Split(key, ".") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "[")
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldOfTag(t, name)
			if !ok {
				return nil
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
		for strings.Contains(part, "[") && (t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer) {
			t = t.Elem()
			part = part[strings.IndexByte(part, ']')+1:]
		}
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

// fieldOfTag finds the field of struct type t with yaml key name.
func fieldOfTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && yamlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
