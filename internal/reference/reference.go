// Package reference reads the vCenter API reference kept beside the repository
// (../shared/reference/vcenter-api-8.0U2.json) for the tests that hold wcpd against it. The project does
// not copy the reference: where it is absent, callers skip, saying so.
package reference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Op is the part of an operation that wcpd's checks use.
type Op struct {
	Name     string            `json:"name"`
	HTTP     string            `json:"http"`
	URL      string            `json:"url"`
	Dispatch map[string]string `json:"dispatch"`
	Query    map[string]string `json:"query"`
	PathVars map[string]string `json:"path_vars"`
	Headers  map[string]string `json:"headers"`
	BodyPar  *string           `json:"body_param"`
	Output   string            `json:"output"`
	Errors   []string          `json:"errors"`
	Params   []Param           `json:"params"`
}

// Param is one of an operation's parameters, with its type in the reference's notation.
type Param struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Service is one vAPI service and its operations.
type Service struct {
	Iface string `json:"iface"`
	Ops   []Op   `json:"ops"`
}

// ErrAbsent is returned when the reference file is not beside the repository.
var ErrAbsent = errors.New("reference absent")

// Path is where the reference is expected: ../shared/reference beside the module root that holds dir.
func Path(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "..", "shared", "reference", "vcenter-api-8.0U2.json"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// Load reads the reference's services, looking for it from the working directory.
func Load() ([]Service, string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, "", err
	}
	path, err := Path(wd)
	if err != nil {
		return nil, "", err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, path, fmt.Errorf("%w: %s", ErrAbsent, path)
	}
	if err != nil {
		return nil, path, err
	}
	var doc struct {
		Services []Service `json:"services"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, path, fmt.Errorf("%s: %w", path, err)
	}
	return doc.Services, path, nil
}
