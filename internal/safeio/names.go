package safeio

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckName refuses a name that is to become one path element (a run, a
// model, a study): empty, ".", "..", holding a path separator (either
// kind), a NUL or another control character, not UTF-8, or longer than
// 255 bytes. A name it accepts, joined under a folder, stays in that folder.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("name %q is not a file name", name)
	case len(name) > 255:
		return fmt.Errorf("name is %d bytes, longer than the 255 a file name may have", len(name))
	case !utf8.ValidString(name):
		return fmt.Errorf("name %q is not valid UTF-8", name)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q holds a path separator; it must be one path element", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("name %q holds a control character", name)
		}
	}
	return nil
}

// ReadConfig reads a YAML config or study file: a regular file of at most
// MaxConfig bytes that passes CheckYAML. Errors name the file (and the
// line, for CheckYAML's).
func ReadConfig(path string) ([]byte, error) {
	b, err := ReadFile(path, MaxConfig)
	if err != nil {
		return nil, err
	}
	if err := CheckYAML(b); err != nil {
		if ye, ok := err.(*YAMLError); ok && ye.Line > 0 {
			return nil, fmt.Errorf("%s:%d: %s", path, ye.Line, ye.Msg)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}
