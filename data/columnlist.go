package data

import (
	"fmt"
	"strings"
)

// maxListedColumns bounds how many column names an error lists.
const maxListedColumns = 20

// ColumnList names f's columns for a message, as "a, b, c": at most 20,
// then how many more, each name shortened to an excerpt. A file read with
// the wrong format (a binary header, thousands of columns) gives a short
// error, not its whole first line.
func (f *Frame) ColumnList() string {
	names := f.Names()
	var b strings.Builder
	for i, n := range names {
		if i == maxListedColumns {
			fmt.Fprintf(&b, ", … and %d more", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(n) > 40 || strings.ContainsFunc(n, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\uFFFD' }) {
			n = excerpt(n)
		}
		b.WriteString(n)
	}
	return b.String()
}
