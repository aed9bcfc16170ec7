// Package idl owns the vAPI interface metadata of the operations wcpd serves: structures with their
// canonical names and field types, enumerations, and each operation's parameters, output and REST
// binding, generated from the machine-readable vCenter API reference (zz_generated.go, made by
// `go generate`), and the codec between vAPI JSON-RPC's typed values and the plain JSON of the REST
// form (codec.go). Nothing here knows a service's behaviour: the vapi package dispatches JSON-RPC to
// the same handlers as REST through this metadata.
package idl

//go:generate go run ./gen

import (
	"fmt"
	"strings"
	"sync"
)

// Field is a named, typed member: a structure's field or an operation's parameter. Type is in the
// reference's notation, e.g. "Optional<List<ID>>" or "enum com.vmware.vcenter.namespaces.access.role".
type Field struct {
	Name string
	Type string
}

// Struct is a structure by its canonical (IDL) name, which keeps acronyms in capitals, e.g.
// com.vmware.vcenter.namespace_management.IP_range.
type Struct struct {
	Name   string
	Fields []Field
}

// Enum is an enumeration and the values it had in the reference's release.
type Enum struct {
	Name   string
	Values []string
}

// Operation is one operation of a service: its parameters, output type and REST binding.
type Operation struct {
	Name   string
	HTTP   string
	URL    string // REST path below /api, with {var} path variables
	Output string
	Params []Field
	// Body names the parameter that is the whole REST body, if any.
	Body string
	// PathVars maps a path variable of URL to the parameter it carries; Query maps a query
	// parameter to its parameter; Dispatch holds fixed query values selecting the operation
	// (e.g. action=enable).
	PathVars map[string]string
	Query    map[string]string
	Dispatch map[string]string
	// Headers maps an HTTP header of the REST request to the parameter it carries (Client-Token).
	Headers map[string]string
	// Errors are the vAPI error types the operation declares, in snake case (e.g. not_found).
	Errors []string
}

// Service is a vAPI service (interface) and its operations.
type Service struct {
	ID         string
	Operations []Operation
}

// Metadata indexes the generated tables.
type Metadata struct {
	structs  map[string]*Struct
	enums    map[string]*Enum
	ops      map[string]*Operation // by "<service id>.<operation>"
	services []Service

	types sync.Map // type notation → *Type, parsed once

	// fieldTypes holds each structure's field types once resolved (AppendTyped reads them for
	// every structure of every answer).
	fieldTypesMu sync.RWMutex
	fieldTypes   map[*Struct][]*Type
}

// structFieldTypes is the types of s's fields, in order.
func (m *Metadata) structFieldTypes(s *Struct) ([]*Type, error) {
	m.fieldTypesMu.RLock()
	types, ok := m.fieldTypes[s]
	m.fieldTypesMu.RUnlock()
	if ok {
		return types, nil
	}
	types = make([]*Type, len(s.Fields))
	for i, f := range s.Fields {
		t, err := m.Type(f.Type)
		if err != nil {
			return nil, err
		}
		types[i] = t
	}
	m.fieldTypesMu.Lock()
	if m.fieldTypes == nil {
		m.fieldTypes = map[*Struct][]*Type{}
	}
	m.fieldTypes[s] = types
	m.fieldTypesMu.Unlock()
	return types, nil
}

var (
	defaultOnce sync.Once
	defaultMeta *Metadata
)

// Default is the metadata generated from the reference, indexed once.
func Default() *Metadata {
	defaultOnce.Do(func() { defaultMeta = New(generatedStructs, generatedEnums, generatedServices) })
	return defaultMeta
}

// New indexes tables (tests build small ones).
func New(structs []Struct, enums []Enum, services []Service) *Metadata {
	m := &Metadata{structs: map[string]*Struct{}, enums: map[string]*Enum{}, ops: map[string]*Operation{}, services: services}
	for i := range structs {
		m.structs[structs[i].Name] = &structs[i]
	}
	for i := range enums {
		m.enums[enums[i].Name] = &enums[i]
	}
	for i := range services {
		for j := range services[i].Operations {
			op := &services[i].Operations[j]
			m.ops[services[i].ID+"."+op.Name] = op
		}
	}
	return m
}

// Operation finds an operation by service id and operation name.
func (m *Metadata) Operation(service, name string) (*Operation, bool) {
	return m.OperationByID(service + "." + name)
}

// OperationByID finds an operation by its full id, "<service id>.<operation>".
func (m *Metadata) OperationByID(id string) (*Operation, bool) {
	op, ok := m.ops[id]
	return op, ok
}

// Services lists every service with its operations, sorted by id.
func (m *Metadata) Services() []Service { return m.services }

// Struct finds a structure by canonical name.
func (m *Metadata) Struct(name string) (*Struct, bool) {
	s, ok := m.structs[name]
	return s, ok
}

// Enum finds an enumeration by name.
func (m *Metadata) Enum(name string) (*Enum, bool) {
	e, ok := m.enums[name]
	return e, ok
}

// Kind is the kind of a vAPI type.
type Kind int

// The vAPI type kinds.
const (
	KindVoid Kind = iota
	KindString
	KindLong
	KindDouble
	KindBoolean
	KindID
	KindURI
	KindDateTime
	KindSecret
	KindBinary
	KindDynamic   // DynamicStructure: any structure
	KindException // a vAPI error as a value
	KindOptional
	KindList
	KindSet
	KindMap
	KindStruct
	KindEnum
)

// Type is a parsed type. Elem is the element of an optional, list or set and the value of a map;
// Key is a map's key; Name is a structure's or enumeration's canonical name.
type Type struct {
	Kind Kind
	Elem *Type
	Key  *Type
	Name string
}

// Type parses a type in the reference's notation, once per distinct notation.
func (m *Metadata) Type(notation string) (*Type, error) {
	if t, ok := m.types.Load(notation); ok {
		return t.(*Type), nil
	}
	t, rest, err := m.parse(strings.TrimSpace(notation))
	if err == nil && strings.TrimSpace(rest) != "" {
		err = fmt.Errorf("unexpected %q", rest)
	}
	if err != nil {
		return nil, fmt.Errorf("type %q: %w", notation, err)
	}
	m.types.Store(notation, t)
	return t, nil
}

var scalarKinds = map[string]Kind{
	"void": KindVoid, "string": KindString, "long": KindLong, "double": KindDouble, "boolean": KindBoolean,
	"ID": KindID, "URI": KindURI, "DateTime": KindDateTime, "secret": KindSecret, "binary": KindBinary,
	"DynamicStructure": KindDynamic, "Exception": KindException,
}

// parse reads one type from the front of s and returns what follows it.
func (m *Metadata) parse(s string) (*Type, string, error) {
	s = strings.TrimLeft(s, " ")
	end := strings.IndexAny(s, "<>,")
	if end < 0 {
		end = len(s)
	}
	head := strings.TrimSpace(s[:end])
	rest := s[end:]
	if strings.HasPrefix(rest, "<") {
		var kind Kind
		switch head {
		case "Optional":
			kind = KindOptional
		case "List":
			kind = KindList
		case "Set":
			kind = KindSet
		case "Map":
			kind = KindMap
		default:
			return nil, "", fmt.Errorf("unknown generic type %q", head)
		}
		first, rest, err := m.parse(rest[1:])
		if err != nil {
			return nil, "", err
		}
		t := &Type{Kind: kind, Elem: first}
		if kind == KindMap {
			if !strings.HasPrefix(rest, ",") {
				return nil, "", fmt.Errorf("map without a value type")
			}
			value, r, err := m.parse(rest[1:])
			if err != nil {
				return nil, "", err
			}
			t.Key, t.Elem, rest = first, value, r
		}
		if !strings.HasPrefix(rest, ">") {
			return nil, "", fmt.Errorf("missing '>' after %s", head)
		}
		return t, rest[1:], nil
	}
	if strings.HasPrefix(head, "ID(") || head == "ID" {
		return &Type{Kind: KindID}, rest, nil
	}
	if k, ok := scalarKinds[head]; ok {
		return &Type{Kind: k}, rest, nil
	}
	if name, ok := strings.CutPrefix(head, "enum "); ok {
		if _, known := m.enums[name]; !known {
			return nil, "", fmt.Errorf("unknown enumeration %q", name)
		}
		return &Type{Kind: KindEnum, Name: name}, rest, nil
	}
	if _, known := m.structs[head]; known {
		return &Type{Kind: KindStruct, Name: head}, rest, nil
	}
	return nil, "", fmt.Errorf("unknown type %q", head)
}
