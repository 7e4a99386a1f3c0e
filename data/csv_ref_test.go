package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// refReadCSVFrom is the ReadCSVFrom of before the incremental reader: every
// field kept as a string in a rawTable, types inferred afterwards. The
// differential tests compare the two.
func refReadCSVFrom(r io.Reader, name string, opts CSVOptions) (*Frame, error) {
	br := bufio.NewReader(r)
	for i := 0; i < opts.SkipLines; i++ {
		if _, err := br.ReadString('\n'); err != nil {
			if err == io.EOF {
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = ','
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.Comment = opts.Comment
	cr.LazyQuotes = opts.LazyQuotes
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	if !validDelim(cr.Comma) || (cr.Comment != 0 && (!validDelim(cr.Comment) || cr.Comment == cr.Comma)) {
		return nil, fmt.Errorf("data: %s: invalid delimiter %q or comment %q", name, cr.Comma, cr.Comment)
	}
	off := opts.SkipLines
	wrap := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d:%d: %w", name, pe.Line+off, pe.Column, pe.Err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}

	t := &rawTable{file: name, fieldNums: true}
	var issues []Issue
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, wrap(err)
		}
		line, _ := cr.FieldPos(0)
		line += off
		if first {
			first = false
			if len(rec) > 0 {
				rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			}
			names := opts.Names
			if names == nil {
				if opts.NoHeader {
					names = make([]string, len(rec))
					for i := range names {
						names[i] = "c" + strconv.Itoa(i)
					}
				} else {
					names = make([]string, len(rec))
					for i, h := range rec {
						names[i] = strings.TrimSpace(h)
						if names[i] == "" {
							names[i] = "c" + strconv.Itoa(i)
						}
					}
				}
			} else if len(names) != len(rec) {
				return nil, fmt.Errorf("%s:%d: %d names given but the record has %d fields", name, line, len(names), len(rec))
			}
			if err := t.setNames(names); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			if !opts.NoHeader {
				continue
			}
		}
		if len(rec) != len(t.names) {
			msg := fmt.Sprintf("record has %d fields, expected %d", len(rec), len(t.names))
			if opts.BadValues == BadValueMissing {
				issues = append(issues, Issue{File: name, Line: line, Msg: msg + "; row dropped"})
				continue
			}
			return nil, fmt.Errorf("%s:%d: %s", name, line, msg)
		}
		t.addRow(line, rec)
		if opts.MaxRows > 0 && len(t.lines) >= opts.MaxRows {
			break
		}
	}
	f, err := t.build(opts)
	if err != nil {
		return nil, err
	}
	f.Issues = append(issues, f.Issues...)
	return f, nil
}
