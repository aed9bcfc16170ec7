package drs

import (
	"fmt"
	"strings"
)

// FieldError is one invalid input: the field's path in the request (as in
// "children[1].children[0].shares.level"), the value found there and why it
// is wrong.
type FieldError struct {
	Field  string
	Value  any
	Detail string
}

func (e *FieldError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("%s: %s", e.Field, e.Detail)
	}
	return fmt.Sprintf("%s: invalid value %#v: %s", e.Field, e.Value, e.Detail)
}

// FieldErrors is every invalid input found in a request, in tree order. It is
// what Analyze, NewModel and the Model's changes return when the input is
// wrong; retrieve it with errors.As.
type FieldErrors []*FieldError

// maxFieldErrors keeps a hopeless request's error readable.
const maxFieldErrors = 20

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// fieldPath is a node's position in the request. While a tree is compiled,
// every node's path is a prefix of one buffer that grows and shrinks with
// the recursion, so walking a million nodes allocates nothing for paths; a
// path becomes a string ("children[1].children[0]") only when an error
// needs it, and is never kept.
type fieldPath []pathStep

type pathStep struct {
	name  string // a field name, or "" for an index step
	index int
}

// newFieldPath returns an empty path with room for the deepest tree.
func newFieldPath() fieldPath { return make(fieldPath, 0, 2*MaxDepth+4) }

// children is the path of the i-th child: it reuses p's buffer, so it is
// valid until the next sibling's path is made.
func (p fieldPath) children(i int) fieldPath {
	return append(p, pathStep{name: "children"}, pathStep{index: i})
}

func (p fieldPath) String() string {
	var b strings.Builder
	for _, s := range p {
		if s.name == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.name)
	}
	return b.String()
}

// collector gathers field errors up to maxFieldErrors.
type collector struct{ errs FieldErrors }

// add records an error at the field suffix (such as "shares.level", or ""
// for the node itself) below p.
func (c *collector) add(p fieldPath, suffix string, value any, format string, args ...any) {
	if len(c.errs) >= maxFieldErrors {
		return
	}
	field := p.String()
	if suffix != "" {
		if field != "" && suffix[0] != '[' {
			field += "."
		}
		field += suffix
	}
	c.errs = append(c.errs, &FieldError{Field: field, Value: value, Detail: fmt.Sprintf(format, args...)})
}

func (c *collector) full() bool { return len(c.errs) >= maxFieldErrors }

func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}
