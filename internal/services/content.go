package services

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// maxContentBytes bounds a version's decoded content. One content is one etcd record, and etcd
// refuses requests over 1.5 MiB; base64 makes 1 MiB about 1.4 MB.
const maxContentBytes = 1 << 20

// maxIDLength is the longest service or version identifier (a DNS label).
const maxIDLength = 63

// idPattern is seed 001's rule for identifiers: lowercase alphanumerics, with '-' and '.' allowed
// anywhere but first and last.
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// idProblem says what is wrong with a service or version identifier, or "" when it is valid.
func idProblem(id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case len(id) > maxIDLength:
		return fmt.Sprintf("must be at most %d characters long, not %d", maxIDLength, len(id))
	case !idPattern.MatchString(id):
		return "must consist of lowercase letters a-z, digits 0-9, '-' and '.', and begin and end with a letter or digit"
	}
	return ""
}

// reservedServiceIDs may not name a Supervisor Service.
var reservedServiceIDs = map[string]bool{"namespaces": true}

// decodeBase64 decodes base64 content, tolerating line breaks (as base64(1) wraps its output) and
// missing padding. reason is set when the text is not usable.
func decodeBase64(text string) (raw []byte, reason string) {
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
	if clean == "" {
		return nil, "must not be empty"
	}
	raw, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		var err2 error
		if raw, err2 = base64.RawStdEncoding.DecodeString(clean); err2 != nil {
			return nil, "is not valid base64: " + err.Error()
		}
	}
	if len(raw) > maxContentBytes {
		return nil, fmt.Sprintf("decodes to %d bytes; at most %d are accepted", len(raw), maxContentBytes)
	}
	return raw, ""
}

// problem is one thing wrong with a content: where in the content, the value found there, and why it
// is wrong. Handlers turn problems into INVALID_ARGUMENT messages naming the spec field that carried
// the content; check_content lists them as error_messages.
type problem struct {
	where  string
	value  string
	reason string
}

func (p problem) String() string {
	if p.where == "" {
		return p.reason
	}
	return p.where + " " + p.reason
}

// versionMeta is what a content (or a custom spec) says about its service and version.
type versionMeta struct {
	Service     string
	Version     string
	DisplayName string
	Description string
	EULA        string
}

// content is a decoded version content: its YAML documents, the signature if it carries one, and
// what the recognised format says.
type content struct {
	raw       []byte        // the decoded bytes, as given
	payload   []byte        // raw without the signature document: the signed bytes
	signature *signatureDoc // nil when the content is not signed
	docs      []*yaml.Node  // the payload's documents, empty ones left out
	format    string        // contentVsphere, contentCarvel or contentCustom, as recognised; "" if not YAML
	meta      versionMeta   // from the content, for the vSphere and Carvel formats
	// problems are what is wrong whatever the format (not YAML, a malformed signature document);
	// formatProblems what is wrong in the recognised format.
	problems       []problem
	formatProblems []problem
}

// parseContent splits off the signature, parses every YAML document and recognises the format: a
// vSphere application service descriptor, Carvel Package/PackageMetadata documents, or anything else
// (custom YAML). It never fails: what is wrong is in problems. A content that is not YAML at all
// has format "".
func parseContent(raw []byte) *content {
	c := &content{raw: raw}
	c.payload, c.signature, c.problems = splitSignature(raw)
	docs, err := yamlDocuments(c.payload)
	if err != nil {
		c.problems = append(c.problems, problem{reason: "is not valid YAML: " + err.Error()})
		return c
	}
	if len(docs) == 0 {
		c.problems = append(c.problems, problem{reason: "holds no YAML document"})
		return c
	}
	c.docs = docs
	if meta, problems, found := analyzeVsphere(docs); found {
		c.format, c.meta, c.formatProblems = contentVsphere, meta, problems
	} else if meta, problems, found := analyzeCarvel(docs); found {
		c.format, c.meta, c.formatProblems = contentCarvel, meta, problems
	} else {
		c.format = contentCustom
	}
	return c
}

// yamlDocuments parses a YAML stream into its non-empty documents.
func yamlDocuments(b []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue
		}
		docs = append(docs, &n)
	}
}

// k8sHeader is the part of a Kubernetes object every format recognises documents by.
type k8sHeader struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
}

// header reads a document's header; documents that are not Kubernetes-shaped give an empty one.
func header(doc *yaml.Node) k8sHeader {
	var h k8sHeader
	if err := doc.Decode(&h); err != nil {
		return k8sHeader{}
	}
	return h
}

func apiGroup(apiVersion string) string {
	group, _, _ := strings.Cut(apiVersion, "/")
	return group
}

// --- vSphere application service format ---

// vSphere application service descriptors are SupervisorService objects of the app platform API
// groups, either as documents of the content or inside a ConfigMap labelled as a Supervisor Service
// (the packaging of the vSphere 7 platform services).
var vsphereGroups = map[string]bool{"appplatform.wcp.vmware.com": true, "appplatform.vmware.com": true}

const (
	vsphereKind          = "SupervisorService"
	vsphereConfigMapKey  = "appplatform.vmware.com/kind"
	vsphereConfigMapKind = "supervisorservice"
)

// vsphereDescriptorSpec is the spec of a SupervisorService descriptor.
type vsphereDescriptorSpec struct {
	ServiceID   string   `yaml:"serviceId"`
	Label       string   `yaml:"label"`
	Description string   `yaml:"description"`
	EULA        string   `yaml:"eula"`
	Version     string   `yaml:"version"`
	Versions    []string `yaml:"versions"`
}

func isVsphereDescriptor(h k8sHeader) bool {
	return h.Kind == vsphereKind && vsphereGroups[apiGroup(h.APIVersion)]
}

// vsphereDescriptors finds the descriptor documents, looking one level into labelled ConfigMaps.
func vsphereDescriptors(docs []*yaml.Node) (found []*yaml.Node, where []string) {
	for i, doc := range docs {
		h := header(doc)
		if isVsphereDescriptor(h) {
			found = append(found, doc)
			where = append(where, fmt.Sprintf("document %d (SupervisorService %s)", i+1, h.Metadata.Name))
			continue
		}
		if h.Kind != "ConfigMap" || h.Metadata.Labels[vsphereConfigMapKey] != vsphereConfigMapKind {
			continue
		}
		var cm struct {
			Data map[string]string `yaml:"data"`
		}
		if doc.Decode(&cm) != nil {
			continue
		}
		for key, text := range cm.Data {
			inner, err := yamlDocuments([]byte(text))
			if err != nil {
				continue
			}
			for _, d := range inner {
				if isVsphereDescriptor(header(d)) {
					found = append(found, d)
					where = append(where, fmt.Sprintf("ConfigMap %s data %s", h.Metadata.Name, key))
				}
			}
		}
	}
	return found, where
}

// analyzeVsphere reads the vSphere application service descriptor, if the content has one.
func analyzeVsphere(docs []*yaml.Node) (versionMeta, []problem, bool) {
	found, where := vsphereDescriptors(docs)
	if len(found) == 0 {
		return versionMeta{}, nil, false
	}
	if len(found) > 1 {
		return versionMeta{}, []problem{{value: strings.Join(where, ", "),
			reason: fmt.Sprintf("holds %d SupervisorService descriptors; a version's content holds exactly one", len(found))}}, true
	}
	var spec struct {
		Spec vsphereDescriptorSpec `yaml:"spec"`
	}
	at := where[0]
	if err := found[0].Decode(&spec); err != nil {
		return versionMeta{}, []problem{{where: at, reason: "has an unreadable spec: " + err.Error()}}, true
	}
	s := spec.Spec
	meta := versionMeta{Service: s.ServiceID, DisplayName: s.Label, Description: s.Description, EULA: s.EULA, Version: s.Version}
	var problems []problem
	switch {
	case s.Version != "" && len(s.Versions) > 0:
		problems = append(problems, problem{where: at, value: s.Version, reason: "sets both spec.version and spec.versions; set one"})
	case s.Version == "" && len(s.Versions) == 1:
		meta.Version = s.Versions[0]
	case len(s.Versions) > 1:
		problems = append(problems, problem{where: at, value: strings.Join(s.Versions, ", "),
			reason: "lists several versions in spec.versions; a version's content describes exactly one"})
	}
	problems = append(problems, checkMeta(at, meta, "spec.serviceId", "spec.version", "spec.label")...)
	return meta, problems, true
}

// --- Carvel package format ---

const carvelGroup = "data.packaging.carvel.dev"

type carvelMetadataSpec struct {
	DisplayName      string `yaml:"displayName"`
	ShortDescription string `yaml:"shortDescription"`
	LongDescription  string `yaml:"longDescription"`
}

type carvelPackageSpec struct {
	RefName  string   `yaml:"refName"`
	Version  string   `yaml:"version"`
	Licenses []string `yaml:"licenses"`
}

// analyzeCarvel reads the Package and PackageMetadata documents, if the content has any.
func analyzeCarvel(docs []*yaml.Node) (versionMeta, []problem, bool) {
	var pkgs, metas []*yaml.Node
	var pkgNames, metaNames []string
	for _, doc := range docs {
		h := header(doc)
		if apiGroup(h.APIVersion) != carvelGroup {
			continue
		}
		switch h.Kind {
		case "Package":
			pkgs, pkgNames = append(pkgs, doc), append(pkgNames, h.Metadata.Name)
		case "PackageMetadata":
			metas, metaNames = append(metas, doc), append(metaNames, h.Metadata.Name)
		}
	}
	if len(pkgs) == 0 && len(metas) == 0 {
		return versionMeta{}, nil, false
	}
	var problems []problem
	if len(metas) != 1 {
		problems = append(problems, problem{value: strings.Join(metaNames, ", "),
			reason: fmt.Sprintf("holds %d PackageMetadata documents; a Carvel service version needs exactly one", len(metas))})
	}
	if len(pkgs) != 1 {
		problems = append(problems, problem{value: strings.Join(pkgNames, ", "),
			reason: fmt.Sprintf("holds %d Package documents; a Carvel service version needs exactly one", len(pkgs))})
	}
	if len(problems) > 0 {
		return versionMeta{}, problems, true
	}
	var md struct {
		Spec carvelMetadataSpec `yaml:"spec"`
	}
	if err := metas[0].Decode(&md); err != nil {
		return versionMeta{}, []problem{{where: "PackageMetadata " + metaNames[0], reason: "has an unreadable spec: " + err.Error()}}, true
	}
	var pkg struct {
		Spec carvelPackageSpec `yaml:"spec"`
	}
	if err := pkgs[0].Decode(&pkg); err != nil {
		return versionMeta{}, []problem{{where: "Package " + pkgNames[0], reason: "has an unreadable spec: " + err.Error()}}, true
	}
	desc := md.Spec.ShortDescription
	if desc == "" {
		desc = md.Spec.LongDescription
	}
	meta := versionMeta{
		Service:     metaNames[0],
		Version:     pkg.Spec.Version,
		DisplayName: md.Spec.DisplayName,
		Description: desc,
		EULA:        strings.Join(pkg.Spec.Licenses, "\n"),
	}
	problems = append(problems, checkMeta("PackageMetadata", meta, "metadata.name", "", "spec.displayName")...)
	problems = append(problems, checkMeta("Package", meta, "", "spec.version", "")...)
	if pkg.Spec.RefName != meta.Service {
		problems = append(problems, problem{where: "Package spec.refName", value: pkg.Spec.RefName,
			reason: fmt.Sprintf("must name the PackageMetadata %q", meta.Service)})
	}
	if want := meta.Service + "." + meta.Version; meta.Version != "" && pkgNames[0] != want {
		problems = append(problems, problem{where: "Package metadata.name", value: pkgNames[0],
			reason: fmt.Sprintf("must be %q, the refName and the version joined by a dot", want)})
	}
	return meta, problems, true
}

// checkMeta checks the identifiers and display name a content declares; the field names say where
// the content keeps them ("" skips a check).
func checkMeta(doc string, m versionMeta, serviceField, versionField, nameField string) []problem {
	var problems []problem
	if serviceField != "" {
		if why := idProblem(m.Service); why != "" {
			problems = append(problems, problem{where: doc + " " + serviceField, value: m.Service, reason: why})
		} else if reservedServiceIDs[m.Service] {
			problems = append(problems, problem{where: doc + " " + serviceField, value: m.Service, reason: "is reserved"})
		}
	}
	if versionField != "" {
		if why := idProblem(m.Version); why != "" {
			problems = append(problems, problem{where: doc + " " + versionField, value: m.Version, reason: why})
		}
	}
	if nameField != "" && strings.TrimSpace(m.DisplayName) == "" {
		problems = append(problems, problem{where: doc + " " + nameField, reason: "must not be empty"})
	}
	return problems
}

// --- what an install applies ---

// workloads are the Kubernetes objects a version's content puts on a Supervisor, one document
// each: for the vSphere format every document but the service descriptor; for the Carvel format
// the YAML files its Package fetches inline (what a bundle, image, Git repository or URL would
// fetch cannot be fetched here: unfetchable names it); custom YAML as it is.
func (c *content) workloads() (docs [][]byte, unfetchable string, err error) {
	add := func(n *yaml.Node) error {
		b, err := yaml.Marshal(n)
		if err == nil {
			docs = append(docs, b)
		}
		return err
	}
	switch c.format {
	case contentVsphere, contentCustom:
		for _, doc := range c.docs {
			if c.format == contentVsphere && isVsphereDescriptor(header(doc)) {
				continue
			}
			if err := add(doc); err != nil {
				return nil, "", err
			}
		}
	case contentCarvel:
		for _, doc := range c.docs {
			h := header(doc)
			if apiGroup(h.APIVersion) != carvelGroup || h.Kind != "Package" {
				continue
			}
			var pkg struct {
				Spec struct {
					Template struct {
						Spec struct {
							Fetch []map[string]yaml.Node `yaml:"fetch"`
						} `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			}
			if err := doc.Decode(&pkg); err != nil {
				return nil, "", fmt.Errorf("the Package is unreadable: %w", err)
			}
			for _, fetch := range pkg.Spec.Template.Spec.Fetch {
				for source, spec := range fetch {
					if source != "inline" {
						unfetchable = source
						continue
					}
					var inline struct {
						Paths map[string]string `yaml:"paths"`
					}
					if err := spec.Decode(&inline); err != nil {
						return nil, "", fmt.Errorf("the Package's inline fetch is unreadable: %w", err)
					}
					paths := slices.Sorted(maps.Keys(inline.Paths))
					for _, path := range paths {
						if !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
							continue
						}
						files, err := yamlDocuments([]byte(inline.Paths[path]))
						if err != nil {
							return nil, "", fmt.Errorf("the Package's file %s is not YAML: %w", path, err)
						}
						for _, f := range files {
							if err := add(f); err != nil {
								return nil, "", err
							}
						}
					}
				}
			}
		}
	}
	return docs, unfetchable, nil
}
