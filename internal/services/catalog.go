package services

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// --- errors ---

// invalid collects INVALID_ARGUMENT messages so one answer names every bad field.
type invalid struct{ msgs []vapi.Message }

// field records that field has an unusable value.
func (v *invalid) field(field string, value any, reason string) {
	v.msgs = append(v.msgs, vapi.InvalidArgument(field, value, reason).Messages[0])
}

// content records a problem found inside the content carried by field.
func (v *invalid) content(field string, p problem) {
	v.msgs = append(v.msgs, contentMessage(field, p))
}

func (v *invalid) err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	return &vapi.Error{Type: vapi.ErrorInvalidArgument, Messages: v.msgs}
}

// contentMessage words a content problem: "The content in <field> <where> "<value>" <reason>."
func contentMessage(field string, p problem) vapi.Message {
	text := "The content"
	if field != "" {
		text += " in " + field
	}
	if p.where != "" {
		text += ": " + p.where
	}
	if p.value != "" {
		text += " " + strconv.Quote(p.value)
	}
	text += " " + p.reason + "."
	return vapi.Message{ID: "wcpd.supervisor_services.content.invalid", DefaultMessage: text,
		Args: []string{field, p.where, p.value, p.reason}}
}

func notAllowed(id, format string, args ...any) *vapi.Error {
	return vapi.Errorf(vapi.ErrorNotAllowedInState, "wcpd.supervisor_services."+id, format, args...)
}

func serviceNotFound(id string) *vapi.Error {
	return vapi.NotFound("Supervisor Service", id)
}

func versionNotFound(service, version string) *vapi.Error {
	return vapi.NewError(vapi.ErrorNotFound, "wcpd.supervisor_services.version.not_found",
		fmt.Sprintf("Supervisor Service %q has no version %q.", service, version), service, version)
}

func serviceExists(id string) *vapi.Error {
	return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.supervisor_services.already_exists",
		fmt.Sprintf("A Supervisor Service %q is already registered.", id), id)
}

func versionExists(service, version string) *vapi.Error {
	return vapi.NewError(vapi.ErrorAlreadyExists, "wcpd.supervisor_services.version.already_exists",
		fmt.Sprintf("Supervisor Service %q already has a version %q.", service, version), service, version)
}

// --- preparing a version ---

// versionSource is a version spec in any of its three forms.
type versionSource struct {
	path       string // where the version spec sits, e.g. "spec.vsphere_spec.version_spec"
	form       string // the form the client chose: contentCustom, contentVsphere or contentCarvel
	content    string // base64, as sent
	trusted    *bool  // trusted_provider; nil means true. Carvel has none.
	acceptEULA *bool
	custom     versionMeta // the custom form's own version id and names
}

// preparedVersion is a version whose content passed every check, ready to store.
type preparedVersion struct {
	meta          versionMeta
	contentType   string
	content       string // canonical base64
	trustVerified bool
}

// prepareVersion decodes and checks a version's content in the form the client chose, verifies its
// signature and the EULA acceptance, and reports every problem at once (adding them to bad, which
// may already hold the caller's own findings).
func (f *Family) prepareVersion(src versionSource, bad *invalid) (*preparedVersion, error) {
	contentField := src.path + ".content"
	raw, why := decodeBase64(src.content)
	if why != "" {
		bad.field(contentField, abbreviate(src.content), why)
		return nil, bad.err()
	}
	c := parseContent(raw)
	for _, p := range c.problems {
		bad.content(contentField, p)
	}
	p := &preparedVersion{contentType: src.form, content: base64.StdEncoding.EncodeToString(raw)}
	switch src.form {
	case contentCustom:
		p.meta = src.custom
		if why := idProblem(p.meta.Version); why != "" {
			bad.field(src.path+".version", p.meta.Version, why)
		}
		if strings.TrimSpace(p.meta.DisplayName) == "" {
			bad.field(src.path+".display_name", p.meta.DisplayName, "must not be empty")
		}
	case contentVsphere, contentCarvel:
		p.meta = c.meta
		switch {
		case c.format == "":
			// Not YAML: already reported.
		case c.format != src.form:
			bad.content(contentField, problem{reason: formatMismatch(src.form, c.format)})
		default:
			for _, fp := range c.formatProblems {
				bad.content(contentField, fp)
			}
		}
	}
	dir := f.trustDir()
	keys, skipped := trustStore{dir: dir}.keys()
	for _, s := range skipped {
		f.log.Warn("trust store entry not used", "entry", s)
	}
	unverified := verify(c, keys, dir)
	mustVerify := src.form != contentCarvel && (src.trusted == nil || *src.trusted)
	switch {
	case mustVerify && unverified != "":
		bad.content(contentField, problem{reason: unverified + "; sign it with a key of the trust store (docs/services.md), or set " +
			src.path + ".trusted_provider to false to register it as untrusted"})
	case mustVerify, src.form == contentCarvel:
		p.trustVerified = unverified == ""
	}
	if src.form == contentVsphere && p.meta.EULA != "" && (src.acceptEULA == nil || !*src.acceptEULA) {
		value := "unset"
		if src.acceptEULA != nil {
			value = "false"
		}
		bad.field(src.path+".accept_EULA", value, "the content carries a EULA, which must be accepted (true) to register it")
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// formatMismatch explains that a content is not in the format its spec field promises.
func formatMismatch(want, got string) string {
	var msg string
	switch want {
	case contentVsphere:
		msg = "is not in the vSphere application service format: it has no SupervisorService descriptor (apiVersion appplatform.wcp.vmware.com/v1alpha1)"
	case contentCarvel:
		msg = "is not a Carvel package: it has no Package and PackageMetadata documents (apiVersion data.packaging.carvel.dev/v1alpha1)"
	}
	switch got {
	case contentVsphere:
		msg += "; it is in the vSphere application service format, which vsphere_spec takes"
	case contentCarvel:
		msg += "; it is a Carvel package, which carvel_spec takes"
	}
	return msg
}

// abbreviate shortens a long value for an error message.
func abbreviate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// newVersionRecord is the stored form of a prepared version.
func (f *Family) newVersionRecord(p *preparedVersion, contentKey string, byDefault bool) versionRecord {
	return versionRecord{
		DisplayName:         p.meta.DisplayName,
		Description:         p.meta.Description,
		EULA:                p.meta.EULA,
		ContentType:         p.contentType,
		ContentKey:          contentKey,
		TrustVerified:       p.trustVerified,
		State:               stateActivated,
		RegisteredByDefault: byDefault,
		Created:             f.now(),
	}
}

// writeContent stores a version's content under a key of its own.
func (f *Family) writeContent(ctx context.Context, service, version, b64 string) (string, error) {
	var nonce [6]byte
	_, _ = rand.Read(nonce[:])
	key := service + "/" + version + "/" + hex.EncodeToString(nonce[:])
	_, err := f.contents.Create(ctx, key, contentRecord{Service: service, Version: version, Content: b64, Created: f.now()})
	return key, err
}

// dropContent removes a content that did not get registered after all.
func (f *Family) dropContent(key string) {
	if err := f.contents.Delete(context.Background(), key, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		f.log.Warn("removing an unregistered Supervisor Service content", "key", key, "error", err)
	}
}

// --- supervisor_services ---

func (f *Family) checkContent(c *vapi.Call) (any, error) {
	var spec contentCheckSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	if spec.Content == nil {
		var errs vapi.FieldErrors
		errs.Missing("spec.content")
		return nil, errs.Err()
	}
	res := checkResult{Status: validationValid}
	raw, why := decodeBase64(*spec.Content)
	if why != "" {
		res.Status = validationInvalid
		res.ErrorMessages = []vapi.Message{contentMessage("spec.content", problem{reason: why})}
		return res, nil
	}
	ct := parseContent(raw)
	for _, p := range append(ct.problems, ct.formatProblems...) {
		res.ErrorMessages = append(res.ErrorMessages, contentMessage("spec.content", p))
	}
	if ct.format != "" {
		res.ContentType = optional(ct.format)
	}
	m := ct.meta
	switch ct.format {
	case contentVsphere:
		res.VsphereAppsCheckResult = &vsphereAppsResult{SupervisorService: m.Service, Version: m.Version,
			DisplayName: m.DisplayName, Description: optional(m.Description), EULA: optional(m.EULA)}
		dir := f.trustDir()
		keys, _ := trustStore{dir: dir}.keys()
		if why := verify(ct, keys, dir); why != "" {
			res.WarningMessages = append(res.WarningMessages, vapi.Message{ID: "wcpd.supervisor_services.content.untrusted",
				DefaultMessage: "The content " + why + "; it can be registered only with trusted_provider set to false.",
				Args:           []string{why}})
		}
	case contentCarvel:
		res.CarvelAppsCheckResult = &carvelAppsResult{SupervisorService: m.Service, Version: m.Version,
			DisplayName: m.DisplayName, Description: optional(m.Description)}
	}
	switch {
	case len(res.ErrorMessages) > 0:
		res.Status = validationInvalid
		res.WarningMessages = nil
	case len(res.WarningMessages) > 0:
		res.Status = validationWithWarnings
	}
	return res, nil
}

func (f *Family) createService(c *vapi.Call) (any, error) {
	var spec serviceCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	var bad invalid
	var src versionSource
	var id, name, desc string
	switch {
	case spec.CustomSpec != nil:
		cs := spec.CustomSpec
		vs := cs.VersionSpec
		src = versionSource{path: "spec.custom_spec.version_spec", form: contentCustom, content: vs.Content, trusted: vs.TrustedProvider,
			custom: versionMeta{Version: vs.Version, DisplayName: vs.DisplayName, Description: deref(vs.Description)}}
		id, name, desc = cs.SupervisorService, cs.DisplayName, deref(cs.Description)
		if why := idProblem(id); why != "" {
			bad.field("spec.custom_spec.supervisor_service", id, why)
		} else if reservedServiceIDs[id] {
			bad.field("spec.custom_spec.supervisor_service", id, "is reserved")
		}
		if strings.TrimSpace(name) == "" {
			bad.field("spec.custom_spec.display_name", name, "must not be empty")
		}
	case spec.VsphereSpec != nil:
		vs := spec.VsphereSpec.VersionSpec
		src = versionSource{path: "spec.vsphere_spec.version_spec", form: contentVsphere, content: vs.Content,
			trusted: vs.TrustedProvider, acceptEULA: vs.AcceptEULA}
	default:
		src = versionSource{path: "spec.carvel_spec.version_spec", form: contentCarvel, content: spec.CarvelSpec.VersionSpec.Content}
	}
	p, err := f.prepareVersion(src, &bad)
	if err != nil {
		return nil, err
	}
	if src.form != contentCustom {
		id, name, desc = p.meta.Service, p.meta.DisplayName, p.meta.Description
	}
	return nil, f.registerService(c.Ctx, serviceRecord{ID: id, DisplayName: name, Description: desc}, p, false)
}

// registerService stores a new service with its first version (activated, as both start).
func (f *Family) registerService(ctx context.Context, rec serviceRecord, p *preparedVersion, byDefault bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services.Get(rec.ID); ok {
		return serviceExists(rec.ID)
	}
	key, err := f.writeContent(ctx, rec.ID, p.meta.Version, p.content)
	if err != nil {
		return err
	}
	rec.State = stateActivated
	rec.Created = f.now()
	rec.Versions = map[string]versionRecord{p.meta.Version: f.newVersionRecord(p, key, byDefault)}
	if _, err := f.services.Create(ctx, rec.ID, rec); err != nil {
		f.dropContent(key)
		if errors.Is(err, store.ErrExists) {
			return serviceExists(rec.ID)
		}
		return err
	}
	return nil
}

func (f *Family) getService(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	rec, ok := f.services.Get(id)
	if !ok {
		return nil, serviceNotFound(id)
	}
	s := rec.Value
	return serviceInfo{DisplayName: s.DisplayName, State: s.State, Description: optional(s.Description),
		HasDefaultVersionsRegistered: s.hasDefaultVersions(), MustBeInstalled: s.MustBeInstalled}, nil
}

func (f *Family) listServices(*vapi.Call) (any, error) {
	out := []serviceSummary{}
	for _, rec := range f.services.ListShared() {
		out = append(out, serviceSummary{SupervisorService: rec.Key, DisplayName: rec.Value.DisplayName, State: rec.Value.State})
	}
	return out, nil
}

func (f *Family) updateService(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	if _, ok := f.services.Get(id); !ok {
		return nil, serviceNotFound(id)
	}
	var spec serviceUpdateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	return nil, f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		if spec.DisplayName != nil {
			s.DisplayName = *spec.DisplayName
		}
		if spec.Description != nil {
			s.Description = *spec.Description
		}
		return nil
	})
}

// mutateService applies fn to the stored service, answering NOT_FOUND if it is gone.
func (f *Family) mutateService(ctx context.Context, id string, fn func(s *serviceRecord) error) error {
	_, err := f.services.Mutate(ctx, id, fn)
	if errors.Is(err, store.ErrNotFound) {
		return serviceNotFound(id)
	}
	return storeError(err, "Supervisor Service "+id)
}

func (f *Family) deleteService(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.services.Get(id)
	if !ok {
		return nil, serviceNotFound(id)
	}
	s := rec.Value
	switch {
	case s.State != stateDeactivated:
		return nil, notAllowed("delete.activated", "Supervisor Service %s is %s; deactivate it before deleting it.", id, s.State)
	case len(s.Versions) > 0:
		return nil, notAllowed("delete.has_versions", "Supervisor Service %s still has the versions %s; delete them before deleting the service.",
			id, strings.Join(sortedVersions(s.Versions), ", "))
	}
	if clusters := f.installedOn(id, ""); len(clusters) > 0 {
		return nil, notAllowed("delete.installed", "Supervisor Service %s is installed on the Supervisors of %s; remove it from them first.",
			id, strings.Join(clusters, ", "))
	}
	if err := f.services.Delete(c.Ctx, id, rec.Revision); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, serviceNotFound(id)
		}
		return nil, storeError(err, "Supervisor Service "+id)
	}
	return nil, nil
}

func (f *Family) activateService(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	return nil, f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		switch {
		case s.State == stateActivated:
			return notAllowed("activate.activated", "Supervisor Service %s is already ACTIVATED.", id)
		case len(s.Versions) == 0:
			return notAllowed("activate.no_versions", "Supervisor Service %s has no versions left to activate; delete it instead.", id)
		}
		s.State = stateActivated
		for v, rec := range s.Versions {
			rec.State = stateActivated
			s.Versions[v] = rec
		}
		return nil
	})
}

func (f *Family) deactivateService(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	return nil, f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		switch {
		case s.State == stateDeactivated:
			return notAllowed("deactivate.deactivated", "Supervisor Service %s is already DEACTIVATED.", id)
		case s.MustBeInstalled:
			return notAllowed("deactivate.must_be_installed", "Supervisor Service %s must be installed on every Supervisor and cannot be deactivated.", id)
		}
		s.State = stateDeactivated
		for v, rec := range s.Versions {
			rec.State = stateDeactivated
			s.Versions[v] = rec
		}
		return nil
	})
}

// --- supervisor_services.versions ---

func (f *Family) createVersion(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	if _, ok := f.services.Get(id); !ok {
		return nil, serviceNotFound(id)
	}
	var spec versionCreateSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	var src versionSource
	switch {
	case spec.CustomSpec != nil:
		vs := spec.CustomSpec
		src = versionSource{path: "spec.custom_spec", form: contentCustom, content: vs.Content, trusted: vs.TrustedProvider,
			custom: versionMeta{Service: id, Version: vs.Version, DisplayName: vs.DisplayName, Description: deref(vs.Description)}}
	case spec.VsphereSpec != nil:
		vs := spec.VsphereSpec
		src = versionSource{path: "spec.vsphere_spec", form: contentVsphere, content: vs.Content, trusted: vs.TrustedProvider, acceptEULA: vs.AcceptEULA}
	default:
		src = versionSource{path: "spec.carvel_spec", form: contentCarvel, content: spec.CarvelSpec.Content}
	}
	var bad invalid
	p, err := f.prepareVersion(src, &bad)
	if err != nil {
		return nil, err
	}
	if p.meta.Service != id && src.form != contentCustom {
		bad.content(src.path+".content", problem{value: p.meta.Service,
			reason: fmt.Sprintf("names another Supervisor Service than %q, whose version it is meant to be", id)})
		return nil, bad.err()
	}
	version := p.meta.Version

	f.mu.Lock()
	defer f.mu.Unlock()
	check := func(s *serviceRecord) error {
		if _, dup := s.Versions[version]; dup {
			return versionExists(id, version)
		}
		if s.State != stateActivated {
			return notAllowed("version.create.deactivated", "Supervisor Service %s is DEACTIVATED; versions can be added only to an ACTIVATED service.", id)
		}
		return nil
	}
	rec, ok := f.services.Get(id)
	if !ok {
		return nil, serviceNotFound(id)
	}
	if err := check(&rec.Value); err != nil {
		return nil, err
	}
	key, err := f.writeContent(c.Ctx, id, version, p.content)
	if err != nil {
		return nil, err
	}
	err = f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		if err := check(s); err != nil {
			return err
		}
		if s.Versions == nil {
			s.Versions = map[string]versionRecord{}
		}
		s.Versions[version] = f.newVersionRecord(p, key, false)
		return nil
	})
	if err != nil {
		f.dropContent(key)
		return nil, err
	}
	return nil, nil
}

// lookupVersion finds a service and one of its versions, or answers NOT_FOUND.
func (f *Family) lookupVersion(c *vapi.Call) (store.Record[serviceRecord], versionRecord, error) {
	id, version := c.Path("supervisorService"), c.Path("version")
	rec, ok := f.services.Get(id)
	if !ok {
		return rec, versionRecord{}, serviceNotFound(id)
	}
	v, ok := rec.Value.Versions[version]
	if !ok {
		return rec, v, versionNotFound(id, version)
	}
	return rec, v, nil
}

func (f *Family) getVersion(c *vapi.Call) (any, error) {
	_, v, err := f.lookupVersion(c)
	if err != nil {
		return nil, err
	}
	info := versionInfo{DisplayName: v.DisplayName, Description: optional(v.Description), EULA: optional(v.EULA),
		ContentType: v.ContentType, TrustVerified: v.TrustVerified, State: v.State, RegisteredByDefault: v.RegisteredByDefault}
	if content, ok := f.contents.Get(v.ContentKey); ok {
		info.Content = &content.Value.Content
	}
	return info, nil
}

func (f *Family) listVersions(c *vapi.Call) (any, error) {
	id := c.Path("supervisorService")
	rec, ok := f.services.Get(id)
	if !ok {
		return nil, serviceNotFound(id)
	}
	out := []versionSummary{}
	for _, version := range sortedVersions(rec.Value.Versions) {
		v := rec.Value.Versions[version]
		out = append(out, versionSummary{Version: version, DisplayName: v.DisplayName, State: v.State, Description: optional(v.Description)})
	}
	return out, nil
}

func (f *Family) deleteVersion(c *vapi.Call) (any, error) {
	id, version := c.Path("supervisorService"), c.Path("version")
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, _, err := f.lookupVersion(c); err != nil {
		return nil, err
	}
	var contentKey string
	err := f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		v, ok := s.Versions[version]
		switch {
		case !ok:
			return versionNotFound(id, version)
		case v.RegisteredByDefault:
			return notAllowed("version.delete.default", "Version %s of Supervisor Service %s is registered by default and cannot be deleted.", version, id)
		case v.State != stateDeactivated:
			return notAllowed("version.delete.activated", "Version %s of Supervisor Service %s is %s; deactivate it before deleting it.", version, id, v.State)
		}
		if clusters := f.installedOn(id, version); len(clusters) > 0 {
			return notAllowed("version.delete.installed", "Version %s of Supervisor Service %s is installed on the Supervisors of %s; move them to another version or remove the service from them first.",
				version, id, strings.Join(clusters, ", "))
		}
		contentKey = v.ContentKey
		delete(s.Versions, version)
		return nil
	})
	if err != nil {
		return nil, err
	}
	f.dropContent(contentKey)
	return nil, nil
}

func (f *Family) activateVersion(c *vapi.Call) (any, error) {
	if _, _, err := f.lookupVersion(c); err != nil {
		return nil, err
	}
	id, version := c.Path("supervisorService"), c.Path("version")
	return nil, f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		v, ok := s.Versions[version]
		if !ok {
			return versionNotFound(id, version)
		}
		if s.State != stateActivated {
			return notAllowed("version.activate.deactivated", "Supervisor Service %s is DEACTIVATED; activate the service to activate its versions.", id)
		}
		v.State = stateActivated
		s.Versions[version] = v
		return nil
	})
}

func (f *Family) deactivateVersion(c *vapi.Call) (any, error) {
	if _, _, err := f.lookupVersion(c); err != nil {
		return nil, err
	}
	id, version := c.Path("supervisorService"), c.Path("version")
	return nil, f.mutateService(c.Ctx, id, func(s *serviceRecord) error {
		v, ok := s.Versions[version]
		if !ok {
			return versionNotFound(id, version)
		}
		if s.State == stateActivated && v.State == stateActivated && len(activatedVersions(s)) == 1 {
			return notAllowed("version.deactivate.last", "Version %s is the last ACTIVATED version of the ACTIVATED Supervisor Service %s; activate another version or deactivate the service first.", version, id)
		}
		v.State = stateDeactivated
		s.Versions[version] = v
		return nil
	})
}

// activatedVersions lists a service's activated versions, lowest first.
func activatedVersions(s *serviceRecord) []string {
	var out []string
	for _, v := range sortedVersions(s.Versions) {
		if s.Versions[v].State == stateActivated {
			out = append(out, v)
		}
	}
	return out
}

// sortedVersions lists the version ids in version order.
func sortedVersions(m map[string]versionRecord) []string {
	out := make([]string, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return compareVersions(out[i], out[j]) < 0 })
	return out
}

// compareVersions orders version ids the way people read them: dot- or dash-separated parts, numeric
// parts by value (1.10 after 1.9), other parts as text, a pre-release before its release.
func compareVersions(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.ParseUint(pa[i], 10, 64)
		nb, errB := strconv.ParseUint(pb[i], 10, 64)
		switch {
		case errA == nil && errB == nil && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case (errA == nil) != (errB == nil):
			if errA == nil { // a number sorts after a word (1.0.0-rc1 before 1.0.0.1)
				return 1
			}
			return -1
		case errA != nil && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	if len(pa) != len(pb) {
		// The longer one goes on: after a number (1.0 < 1.0.1), before a pre-release word (2.0.0-beta < 2.0.0).
		longer, sign := pb, -1
		if len(pa) > len(pb) {
			longer, sign = pa, 1
		}
		if _, err := strconv.ParseUint(longer[min(len(pa), len(pb))], 10, 64); err != nil {
			sign = -sign
		}
		return sign
	}
	return strings.Compare(a, b)
}
