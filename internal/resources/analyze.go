package resources

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/vapi"
)

// analyze serves POST /api/wcpd/resources/analyze: the body is a drs.Request (a cluster's
// capacity and a tree of pools, VMs and pods), the answer the drs.Result for it.
func (f *Family) analyze(c *vapi.Call) (any, error) {
	var req drs.Request
	if err := c.Bind("spec", &req); err != nil {
		return nil, err
	}
	res, err := drs.Analyze(req)
	if err != nil {
		return nil, modelError(err, "spec", "")
	}
	return res, nil
}

// modelError turns the model's validation errors into one INVALID_ARGUMENT naming every field.
// The model names fields from the top of the tree it was given ("children[0].shares.level");
// a field that starts with strip loses that prefix, and root is put in front, so the names match
// what the client sent ("spec.children[0].shares.level", "spec.changes[2].node.limit").
func modelError(err error, root, strip string) error {
	var fes drs.FieldErrors
	if !errors.As(err, &fes) {
		return err
	}
	e := &vapi.Error{Type: vapi.ErrorInvalidArgument}
	for _, fe := range fes {
		field := fe.Field
		if strip != "" {
			if rest, ok := strings.CutPrefix(field, strip); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
				field = strings.TrimPrefix(rest, ".")
			}
		}
		field = joinField(root, field)
		if fe.Value == nil {
			e.Messages = append(e.Messages, invalidField(field, fe.Detail))
			continue
		}
		value := fmt.Sprint(fe.Value)
		e.Messages = append(e.Messages, vapi.InvalidArgument(field, value, fe.Detail).Messages[0])
	}
	return e
}

func joinField(root, field string) string {
	switch {
	case root == "":
		return field
	case field == "":
		return root
	case field[0] == '[':
		return root + field
	}
	return root + "." + field
}

// invalidField is the message for a field that is wrong whatever its value (present where it may
// not be, or missing): it has the args of vapi.InvalidArgument with an empty value.
func invalidField(field, reason string) vapi.Message {
	return vapi.Message{ID: "wcpd.invalid_argument", DefaultMessage: fmt.Sprintf("Invalid %s: %s.", field, reason),
		Args: []string{field, "", reason}}
}
