package train

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/shenml/shen/data"
)

// KeyDoc documents one key of the run config.
type KeyDoc struct {
	// Key is the dotted path ("train.optimizer.lr"); "[]" marks a list
	// of mappings ("data.features[].name").
	Key string `json:"key"`
	// Type is the YAML type the key takes: string, integer, number,
	// boolean, list of ..., mapping of ..., or mapping for a section.
	Type string `json:"type"`
	// Default is the value used when the key is left out ("" when there is
	// none or it depends on other keys, as the doc then says).
	Default string `json:"default,omitempty"`
	// Doc says what the key means and which values it takes.
	Doc string `json:"doc"`
}

// ConfigKeys lists every key of the run config with its type, default and
// meaning, read from the config types themselves (their field comments,
// kept in configdoc.go by `go test ./train -run ConfigDocs -update`), so
// the reference cannot drift from the code.
func ConfigKeys() []KeyDoc {
	defaults := &Config{File: "run.yaml", lines: map[string]int{}, Data: DataConfig{Path: "data.csv", Window: &WindowConfig{}, Text: &TextConfig{Seq: 2}}}
	defaults.setDefaults()
	var out []KeyDoc
	var walk func(t reflect.Type, v reflect.Value, prefix string)
	walk = func(t reflect.Type, v reflect.Value, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamlName(f)
			if !f.IsExported() || name == "-" {
				continue
			}
			key := joinKey(prefix, name)
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
				for fv.Kind() == reflect.Pointer && !fv.IsNil() {
					fv = fv.Elem()
				}
			}
			def := defaultOf(fv)
			if contextual[key] {
				def = ""
			}
			out = append(out, KeyDoc{Key: key, Type: keyType(f.Type), Default: def, Doc: fieldDocs[t.Name()+"."+f.Name]})
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[data.ImageNormalize]():
				if fv.Kind() != reflect.Struct {
					fv = reflect.Value{}
				}
				walk(ft, fv, key)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), reflect.Value{}, key+"[]")
			}
		}
	}
	walk(reflect.TypeFor[Config](), reflect.ValueOf(defaults).Elem(), "")
	return out
}

// contextual are keys whose default comes from the config file or the data
// (their docs say how), not a fixed value.
var contextual = map[string]bool{"name": true, "data.path": true, "data.format": true}

// keyType names a key's YAML type for people.
func keyType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return keyType(t.Elem())
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + keyType(t.Elem())
	case reflect.Map:
		return "mapping of " + keyType(t.Elem())
	case reflect.Struct:
		return "mapping"
	case reflect.Interface:
		return "any"
	}
	return t.String()
}

// defaultOf formats a default filled in by setDefaults ("" for none).
func defaultOf(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64, reflect.Float32:
		return fmt.Sprint(v.Interface())
	}
	return ""
}

// ConfigReference renders ConfigKeys as a Markdown page (docs/config.md).
func ConfigReference() string {
	var b strings.Builder
	b.WriteString("# Run config reference\n\n")
	b.WriteString("Every key `shen train --config` accepts, generated from the config types by\n")
	b.WriteString("`shen config keys --markdown` (a test fails when this page or a key's doc\n")
	b.WriteString("is out of date). Keys are dotted paths; `[]` marks the items of a list.\n")
	b.WriteString("Unknown keys are errors naming `file:line: key`, with the nearest valid key.\n\n")
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	for _, k := range ConfigKeys() {
		doc := strings.ReplaceAll(k.Doc, "|", "\\|")
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Key, k.Type, def, doc)
	}
	return b.String()
}
