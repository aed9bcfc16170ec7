package server

import "github.com/wcpd/wcpd/internal/vapi"

// NewRegistry returns the registry with every API family's handlers attached. Families attach
// handlers that reach their dependencies through the server at call time, so the coverage command
// can build the same registry without starting anything.
func NewRegistry() *vapi.Registry {
	r := vapi.NewRegistry()
	return r
}
