package vapi

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// router matches request paths against the operations' templates segment by segment. Literal
// segments win over parameters, falling back to a parameter when the literal branch has no operation
// for the request (e.g. GET …/instances/v2 is list_v2, DELETE …/instances/v2 deletes namespace "v2").
type router struct {
	root *node
}

type node struct {
	literal map[string]*node
	param   *node
	ops     []*Operation // operations whose template ends here
	// names holds, for each operation ending here, the parameter names of its template in path
	// order (a template's literal and parameter segments are the path to its node, so any other
	// template of the operation ending here names the same positions; the first one's names win).
	names map[*Operation][]string
}

// maxSegments bounds the templates' length: a match records its parameter positions as bits.
const maxSegments = 64

func newRouter(ops []*Operation) *router {
	r := &router{root: &node{}}
	for _, op := range ops {
		for _, tmpl := range append([]string{op.Path}, op.AltPaths...) {
			r.insert(tmpl, op)
		}
	}
	return r
}

func (r *router) insert(tmpl string, op *Operation) {
	n := r.root
	segs := split(tmpl)
	if len(segs) > maxSegments {
		panic("vapi: template " + tmpl + " has more segments than the router matches")
	}
	var names []string
	for _, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := seg[1 : len(seg)-1]
			names = append(names, name)
			if n.param == nil {
				n.param = &node{} // templates naming this position differently share it: see names
			}
			n = n.param
			continue
		}
		if n.literal == nil {
			n.literal = map[string]*node{}
		}
		child := n.literal[seg]
		if child == nil {
			child = &node{}
			n.literal[seg] = child
		}
		n = child
	}
	n.ops = append(n.ops, op)
	// An operation selected by a query parameter is tried before the one without it that shares
	// its method and action (resolve takes the first that fits).
	sort.SliceStable(n.ops, func(i, j int) bool { return n.ops[i].Requires != "" && n.ops[j].Requires == "" })
	if n.names == nil {
		n.names = map[*Operation][]string{}
	}
	if _, ok := n.names[op]; !ok {
		n.names[op] = names
	}
}

func split(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

type match struct {
	node    *node
	paramAt uint64 // bit i set: segment i was a parameter
}

// collect appends every node the segments from depth on reach, literals first.
// The tree is no deeper than maxSegments (insert), so depth stays below it where a parameter is.
func (n *node) collect(segs []string, depth int, paramAt uint64, out []match) []match {
	if depth == len(segs) {
		if len(n.ops) > 0 {
			out = append(out, match{n, paramAt})
		}
		return out
	}
	if c := n.literal[segs[depth]]; c != nil {
		out = c.collect(segs, depth+1, paramAt, out)
	}
	if n.param != nil && segs[depth] != "" {
		out = n.param.collect(segs, depth+1, paramAt|1<<depth, out)
	}
	return out
}

func (r *router) resolve(method, rawPath, action string, query url.Values, into PathParams) (*Operation, PathParams, error) {
	// A request path keeps its empty segments ("a//b", a trailing "/"), which match nothing: a
	// trailing slash must not turn an item operation into the collection's.
	var buf [16]string // most paths have fewer segments: no allocation for them
	segs := buf[:0]
	for seg := range strings.SplitSeq(strings.TrimPrefix(rawPath, "/"), "/") {
		segs = append(segs, seg)
	}
	escaped := strings.IndexByte(rawPath, '%') >= 0 // most paths have no escape: spare the scans
	for i, s := range segs {
		if escaped {
			if u, err := url.PathUnescape(s); err == nil {
				segs[i] = u
			}
		}
		if segs[i] == "." || segs[i] == ".." {
			return nil, nil, DotSegment(rawPath)
		}
	}
	var reached [4]match // most paths reach one or two nodes: no allocation for them
	matches := r.root.collect(segs, 0, 0, reached[:0])
	if len(matches) == 0 {
		return nil, nil, NewError(ErrorNotFound, "wcpd.path.not_found",
			"No operation is served at "+rawPath+".", rawPath)
	}
	for _, m := range matches {
		for _, op := range m.node.ops {
			if op.Method == method && op.Action == action && (op.Requires == "" || query.Has(op.Requires)) {
				return op, r.bind(m, segs, op, into), nil
			}
		}
	}
	// Nothing answers: say why (the same walk, in the same order, gathering what is there).
	allowed := map[string]bool{}
	var actions []string
	for _, m := range matches {
		for _, op := range m.node.ops {
			if op.Method != method {
				allowed[op.Method] = true
				continue
			}
			if op.Action == action {
				return op, r.bind(m, segs, op, into), nil
			}
			if op.Action != "" {
				actions = append(actions, op.Action)
			}
		}
	}
	if len(actions) > 0 || action != "" {
		sort.Strings(actions)
		what := "no action"
		if action != "" {
			what = "action " + `"` + action + `"`
		}
		here := "actions here: " + strings.Join(actions, ", ")
		if len(actions) == 0 {
			here = "operations here take no action"
		}
		return nil, nil, NewError(ErrorOperationNotFound, "wcpd.action.not_found",
			"No operation is served for "+method+" "+rawPath+" with "+what+"; "+here+".",
			method, rawPath, action)
	}
	var allow []string
	for m := range allowed {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	e := NewError(ErrorOperationNotFound, "wcpd.method.not_allowed",
		"Method "+method+" is not allowed on "+rawPath+"; allowed: "+strings.Join(allow, ", ")+".",
		method, rawPath, strings.Join(allow, ","))
	e.Status = http.StatusMethodNotAllowed
	return nil, nil, e
}

// bind names the captured segments after the operation's own template.
func (r *router) bind(m match, segs []string, op *Operation, into PathParams) PathParams {
	if m.paramAt == 0 {
		return into
	}
	names := m.node.names[op]
	i := 0
	for pos, seg := range segs {
		if m.paramAt&(1<<pos) != 0 {
			into = append(into, PathParam{Name: names[i], Value: seg})
			i++
		}
	}
	return into
}

// DotSegment is the error for a path with an empty, "." or ".." segment: wcpd routes paths as they are
// sent and never resolves them (a client following a redirect could replay a DELETE elsewhere).
func DotSegment(path string) *Error {
	return NewError(ErrorInvalidArgument, "wcpd.path.dot_segment",
		"The path "+path+" has an empty, \".\" or \"..\" segment; send the path without them.", path)
}

// HasDotOrEmptySegment reports whether a request path has a "." or ".." segment, or an empty one
// before its end ("//"), which Go's ServeMux would answer with a redirect.
func HasDotOrEmptySegment(path string) bool {
	// Walked in place rather than split: every request asks, twice.
	rest := strings.TrimPrefix(path, "/")
	for {
		seg, after, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." || (seg == "" && more) {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}
