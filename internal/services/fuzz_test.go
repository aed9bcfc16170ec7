package services

import "testing"

// FuzzParseContent: parsing a Supervisor Service's content (plain YAML, a vSphere descriptor, Carvel
// packages, with or without a signature) never panics, whatever the bytes.
func FuzzParseContent(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
		"apiVersion: data.packaging.carvel.dev/v1alpha1\nkind: Package\nmetadata:\n  name: a.b.c.1.0.0\nspec:\n  refName: a.b.c\n  version: 1.0.0\n",
		"apiVersion: data.packaging.carvel.dev/v1alpha1\nkind: PackageMetadata\nmetadata:\n  name: a.b.c\nspec:\n  displayName: null\n",
		"---\n---\n", "a: [1, 2\n", "- null\n- ~\n", "!!binary AAAA", "&a [*a]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseContent(data)
		for _, p := range c.problems {
			_ = p.String()
		}
		for _, p := range c.formatProblems {
			_ = p.String()
		}
	})
}
