// Package spec finds and reads PortOne's V1 OpenAPI (Swagger 2.0) spec,
// iamport-v1.openapi.json, for the tests that hold the SDK and the fake to
// it. The spec is not part of this module: it is found through the
// IAMPORT_SPEC environment variable, or in shared/reference/ of this
// directory or one above it.
package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// FileName is the spec's file name.
const FileName = "iamport-v1.openapi.json"

// Spec is the part of the spec the tests read.
type Spec struct {
	Paths       map[string]map[string]json.RawMessage `json:"paths"`
	Definitions map[string]Definition                 `json:"definitions"`
}

// Definition is a schema of the spec's definitions.
type Definition struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// Parameter is an operation's parameter, with the per-PG annotations.
type Parameter struct {
	Name           string                     `json:"name"`
	In             string                     `json:"in"`
	PerPG          map[string]json.RawMessage `json:"x-portone-per-pg"`
	UnsupportedPGs []string                   `json:"x-portone-unsupported-pgs"`
}

// Operation is one method of a path.
type Operation struct {
	Parameters []Parameter `json:"parameters"`
}

// ErrNotFound says that the spec was not found.
var ErrNotFound = errors.New("spec: " + FileName + " not found (set IAMPORT_SPEC, or keep shared/reference/ beside the checkout)")

// Path finds the spec's file.
func Path() (string, error) {
	if p := os.Getenv("IAMPORT_SPEC"); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "shared", "reference", FileName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", ErrNotFound
		}
		dir = up
	}
}

// Load reads the spec.
func Load() (*Spec, error) {
	p, err := Path()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Operation decodes the operation method (lower case) of path.
func (s *Spec) Operation(path, method string) (*Operation, bool) {
	raw, ok := s.Paths[path][method]
	if !ok {
		return nil, false
	}
	var op Operation
	if json.Unmarshal(raw, &op) != nil {
		return nil, false
	}
	return &op, true
}

// RequiredBy is, for each PG, whether x-portone-per-pg says the parameter
// is required for it.
func (p Parameter) RequiredBy() []string {
	var out []string
	for pg, raw := range p.PerPG {
		var v struct {
			Required bool `json:"required"`
		}
		if json.Unmarshal(raw, &v) == nil && v.Required {
			out = append(out, pg)
		}
	}
	return out
}
