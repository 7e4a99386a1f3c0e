package safeio

import (
	"fmt"
	"io"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/scanner"
	"github.com/goccy/go-yaml/token"
)

// Bounds CheckYAML enforces. Shen's configs nest about six levels and use
// a handful of anchors; these leave room for generated files while
// keeping a decoder's work linear in the input.
const (
	// MaxYAMLDepth bounds the nesting of collections, block and flow.
	MaxYAMLDepth = 100
	// MaxYAMLAliases bounds the number of aliases (*name) in a document.
	MaxYAMLAliases = 10000
	// MaxYAMLNodes bounds the node count of a document with every alias
	// expanded: what a decoder builds.
	MaxYAMLNodes = 1 << 20
)

// YAMLError is a document CheckYAML refuses, with the line of the
// construct at fault (0 when it is the whole document).
type YAMLError struct {
	Line int
	Msg  string
}

func (e *YAMLError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// CheckYAML refuses a YAML document that would cost a decoder more than it
// holds: nesting deeper than MaxYAMLDepth, more than MaxYAMLAliases
// aliases, or more than MaxYAMLNodes nodes once aliases are expanded (the
// "billion laughs" bomb). It lexes the input once to bound the depth
// before anything recursive sees it, then parses it without expanding
// aliases and adds up each anchor's expanded size once, so its time and
// memory are linear in len(b). Syntax errors are left to the decoder:
// CheckYAML returns nil for a document it cannot parse but that is within
// the bounds. Callers read b with a size cap first (ReadFile, MaxConfig).
func CheckYAML(b []byte) error {
	if err := checkTokens(string(b)); err != nil {
		return err
	}
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil // the decoder reports it, with its own position
	}
	c := yamlCounter{anchors: map[string]int64{}}
	for _, d := range f.Docs {
		c.size(d, 0)
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// checkTokens bounds the nesting depth and the alias count over the
// token stream, scanning a few tokens at a time so that a bomb is refused
// after the bytes that make it too deep, without lexing the rest.
func checkTokens(src string) error {
	// The scanner holds a line's tokens at once (a few hundred bytes per
	// input byte), so first check the prefix up to where the raw text
	// looks too deep: a bomb is refused having lexed a few hundred bytes.
	if k := rawTooDeep(src); k > 0 && k < len(src) {
		if err := scanTokens(src[:k]); err != nil {
			return err
		}
	}
	return scanTokens(src)
}

// rawTooDeep returns the offset just past where the brackets opened, plus
// the sequence entries ("- ") on the current line, first exceed
// MaxYAMLDepth, ignoring quotes and comments (an over-estimate of the
// depth, used only to stop lexing early); 0 when they never do.
func rawTooDeep(src string) int {
	flow, dashes := 0, 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '[', '{':
			flow++
		case ']', '}':
			flow = max(flow-1, 0)
		case '\n':
			dashes = 0
		case '-':
			if i+1 < len(src) && src[i+1] == ' ' {
				dashes++
			}
		}
		if flow+dashes > MaxYAMLDepth {
			return i + 1
		}
	}
	return 0
}

// scanTokens runs the token checks over src.
func scanTokens(src string) error {
	var s scanner.Scanner
	s.Init(src)
	var c tokenChecker
	for {
		tks, err := s.Scan()
		if err == io.EOF {
			return nil
		}
		for _, tk := range tks {
			if err := c.token(tk); err != nil {
				return err
			}
		}
	}
}

// tokenChecker follows the nesting of a token stream. Flow depth is the
// count of open brackets; block depth is the stack of indentation columns
// of sequence entries and mapping keys.
type tokenChecker struct {
	block   []blockLevel
	flow    int
	aliases int
	prev    *token.Token // the last token that is not space or comment
}

type blockLevel struct {
	col int
	seq bool
}

func (c *tokenChecker) token(tk *token.Token) error {
	line := 0
	if tk.Position != nil {
		line = tk.Position.Line
	}
	switch tk.Type {
	case token.SequenceStartType, token.MappingStartType:
		c.flow++
	case token.SequenceEndType, token.MappingEndType:
		c.flow = max(c.flow-1, 0)
	case token.AliasType:
		c.aliases++
		if c.aliases > MaxYAMLAliases {
			return &YAMLError{line, fmt.Sprintf("more than %d aliases", MaxYAMLAliases)}
		}
	case token.DocumentHeaderType, token.DocumentEndType:
		c.block = c.block[:0]
	case token.SequenceEntryType, token.MappingValueType:
		if c.flow == 0 {
			c.blockEntry(tk)
		}
	}
	if d := c.flow + len(c.block); d > MaxYAMLDepth {
		return &YAMLError{line, fmt.Sprintf("nesting deeper than %d levels", MaxYAMLDepth)}
	}
	if tk.Type != token.SpaceType && tk.Type != token.CommentType {
		c.prev = tk
	}
	return nil
}

// blockEntry places a block sequence entry or mapping value on the
// indentation stack: levels indented further are closed, a new column (or
// a sequence inside a mapping at the key's column) opens a level.
func (c *tokenChecker) blockEntry(tk *token.Token) {
	at := tk
	seq := tk.Type == token.SequenceEntryType
	if !seq && c.prev != nil {
		at = c.prev // a mapping's level is its key's column
	}
	col := 0
	if at.Position != nil {
		col = at.Position.Column
	}
	for len(c.block) > 0 {
		top := c.block[len(c.block)-1]
		if top.col > col || (top.col == col && top.seq && !seq) {
			c.block = c.block[:len(c.block)-1]
			continue
		}
		break
	}
	if n := len(c.block); n == 0 || c.block[n-1].col != col || c.block[n-1].seq != seq {
		c.block = append(c.block, blockLevel{col, seq})
	}
}

// yamlCounter adds up the nodes of a parsed document with aliases
// expanded, each anchor's size computed once where it is defined.
type yamlCounter struct {
	anchors map[string]int64
	total   int64
	err     error
}

// size returns the expanded node count of n (saturating past
// MaxYAMLNodes) and records the anchors inside it. depth only guards
// against a parser that nests deeper than the token check allowed.
func (c *yamlCounter) size(n ast.Node, depth int) int64 {
	if n == nil || c.err != nil {
		return 0
	}
	if depth > 4*MaxYAMLDepth+16 {
		c.err = &YAMLError{line(n), fmt.Sprintf("nesting deeper than %d levels", MaxYAMLDepth)}
		return 0
	}
	var s int64 = 1
	add := func(m ast.Node) { s = min(s+c.size(m, depth+1), MaxYAMLNodes+1) }
	switch v := n.(type) {
	case *ast.DocumentNode:
		add(v.Body)
	case *ast.MappingNode:
		for _, kv := range v.Values {
			add(kv)
		}
	case *ast.MappingValueNode:
		add(v.Key)
		add(v.Value)
	case *ast.MappingKeyNode:
		add(v.Value)
	case *ast.SequenceNode:
		for _, e := range v.Values {
			add(e)
		}
	case *ast.TagNode:
		add(v.Value)
	case *ast.AnchorNode:
		add(v.Value)
		if v.Name != nil {
			c.anchors[v.Name.String()] = s
		}
	case *ast.AliasNode:
		if v.Value != nil {
			if a, ok := c.anchors[v.Value.String()]; ok {
				s = a
			}
		}
		c.total = min(c.total+s, MaxYAMLNodes+1)
		if c.total > MaxYAMLNodes {
			c.err = &YAMLError{line(n), fmt.Sprintf("aliases expand to more than %d nodes (an alias bomb?)", MaxYAMLNodes)}
		}
	}
	if s > MaxYAMLNodes && c.err == nil {
		c.err = &YAMLError{line(n), fmt.Sprintf("aliases expand to more than %d nodes (an alias bomb?)", MaxYAMLNodes)}
	}
	return s
}

func line(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}
