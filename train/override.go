package train

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/shenml/shen/internal/safeio"
)

// Override is one `--set KEY=VALUE`: a dotted path into the config
// (data.split.val, model.hidden, data.features[1].type,
// preprocessing.features.age) and a value written in YAML (0.01, [64, 32],
// {name: sgd, lr: 0.1}, "text").
type Override struct {
	Key   string
	Value string
}

// String gives the override back as KEY=VALUE.
func (o Override) String() string { return o.Key + "=" + o.Value }

// ParseOverride splits KEY=VALUE at the first '='.
func ParseOverride(s string) (Override, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Override{}, fmt.Errorf("--set %q: want KEY=VALUE, e.g. train.optimizer.lr=0.003", s)
	}
	return Override{Key: k, Value: v}, nil
}

// LoadConfigWith reads the config file at path, applies the overrides in
// order on top of what the file says (before defaults are filled and
// before validation, exactly as if the file had held those values) and
// checks the result. Unknown keys are refused with the closest known key;
// errors caused by an override name it instead of a line of the file.
func LoadConfigWith(path string, sets []string) (*Config, error) {
	b, err := safeio.ReadFile(path, safeio.MaxConfig)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseConfigWith(path, b, sets)
}

// ParseConfigWith is ParseConfig with KEY=VALUE overrides (LoadConfigWith).
// The overrides are appended to Raw as comments, so they change the
// config hash recorded in the artifact and guarding checkpoints.
func ParseConfigWith(name string, b []byte, sets []string) (*Config, error) {
	ovs := make([]Override, 0, len(sets))
	for _, s := range sets {
		o, err := ParseOverride(s)
		if err != nil {
			return nil, err
		}
		ovs = append(ovs, o)
	}
	if len(ovs) > 0 {
		var raw strings.Builder
		raw.Write(b)
		raw.WriteString("\n# --set overrides:\n")
		for _, o := range ovs {
			raw.WriteString("# " + strconv.Quote(o.String()) + "\n")
		}
		b = []byte(raw.String())
	}
	cfg, err := parseConfig(name, b, ovs)
	var ce *ConfigError
	if err != nil && errors.As(err, &ce) {
		for _, o := range ovs {
			if ce.Key == o.Key || strings.HasPrefix(ce.Key, o.Key+".") || strings.HasPrefix(ce.Key, o.Key+"[") {
				ce.File, ce.Line = fmt.Sprintf("%s (--set %s)", ce.File, o), 0
			}
		}
	}
	return cfg, err
}

// applyOverrides sets each override's value in the decoded config and
// marks its key as given (validation treats it like a key of the file).
func (c *Config) applyOverrides(ovs []Override) error {
	for _, o := range ovs {
		if err := setPath(reflect.ValueOf(c).Elem(), o); err != nil {
			return &ConfigError{File: c.File, Key: o.Key, Msg: err.Error()}
		}
		for k := o.Key; k != ""; k = parentKey(trimIndex(k)) {
			if _, ok := c.lines[k]; !ok {
				c.lines[k] = 0
			}
		}
	}
	return nil
}

// pathStep is one step of a dotted key: a name, or an index in a list.
type pathStep struct {
	name  string
	index int // -1 for a name
}

// splitPath splits "data.features[2].type" into data, features, [2], type.
func splitPath(key string) ([]pathStep, error) {
	var steps []pathStep
	for part := range strings.SplitSeq(key, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" {
			return nil, errors.New("empty name in the key")
		}
		steps = append(steps, pathStep{name: name, index: -1})
		for rest != "" {
			n, tail, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(n)
			if !ok || err != nil || i < 0 {
				return nil, fmt.Errorf("bad list index [%s", rest)
			}
			steps = append(steps, pathStep{index: i})
			rest = strings.TrimPrefix(tail, "[")
			if tail != "" && !strings.HasPrefix(tail, "[") {
				return nil, fmt.Errorf("unexpected %q after an index", tail)
			}
		}
	}
	return steps, nil
}

// setPath walks v (a Config) along o.Key and sets the value there.
func setPath(v reflect.Value, o Override) error {
	steps, err := splitPath(o.Key)
	if err != nil {
		return err
	}
	done := ""
	for i, st := range steps {
		last := i == len(steps)-1
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		switch {
		case st.index >= 0:
			if v.Kind() != reflect.Slice {
				return fmt.Errorf("%s is not a list", done)
			}
			if st.index >= v.Len() {
				return fmt.Errorf("index %d is past the end of %s (%d items)", st.index, done, v.Len())
			}
			v = v.Index(st.index)
			done += fmt.Sprintf("[%d]", st.index)
		case v.Kind() == reflect.Struct:
			f, ok := fieldByTag(v, st.name)
			if !ok {
				msg := "unknown key"
				if s := suggest(st.name, tagNames(v.Type())); s != "" {
					msg += fmt.Sprintf(" (did you mean %s?)", joinKey(done, s))
				}
				return errors.New(msg)
			}
			v = f
			done = joinKey(done, st.name)
		case v.Kind() == reflect.Map && last:
			val := reflect.New(v.Type().Elem())
			if err := decodeValue(o.Value, val.Interface()); err != nil {
				return err
			}
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			v.SetMapIndex(reflect.ValueOf(st.name), val.Elem())
			return nil
		default:
			return fmt.Errorf("%s has no key %s (it is %s)", done, st.name, yamlType(v.Type()))
		}
	}
	if v.Kind() == reflect.Pointer {
		switch strings.TrimSpace(o.Value) {
		case "", "null", "~", "Null", "NULL":
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		val := reflect.New(v.Type().Elem())
		if err := decodeValue(o.Value, val.Interface()); err != nil {
			return err
		}
		v.Set(val)
		return nil
	}
	val := reflect.New(v.Type())
	if err := decodeValue(o.Value, val.Interface()); err != nil {
		return err
	}
	v.Set(val.Elem())
	return nil
}

// decodeValue decodes a YAML value strictly into dst.
func decodeValue(s string, dst any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot decode %q (%v)", s, r)
		}
	}()
	if err := yaml.UnmarshalWithOptions([]byte(s), dst, yaml.Strict()); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return fmt.Errorf("want %s, got %q", yamlType(te.DstType), s)
		}
		var ye yaml.Error
		if errors.As(err, &ye) {
			return fmt.Errorf("value %q: %s", s, ye.GetMessage())
		}
		return fmt.Errorf("value %q: %v", s, err)
	}
	return nil
}

// fieldByTag returns the field of struct v whose yaml name is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && yamlName(f) == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

// tagNames lists the yaml keys of struct type t.
func tagNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && yamlName(f) != "-" {
			out = append(out, yamlName(f))
		}
	}
	return out
}

// suggest returns the candidate closest to s by edit distance, if close
// enough to be a likely typo ("" otherwise).
func suggest(s string, candidates []string) string {
	best, bestD, bestP := "", len(s)/2+2, 0
	for _, c := range candidates {
		d, p := editDistance(s, c), commonPrefix(s, c)
		if d < bestD || d == bestD && p > bestP { // ties: the longer shared prefix
			best, bestD, bestP = c, d, p
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
