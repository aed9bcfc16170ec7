// Package services owns Supervisor Services (issue 6): the catalogue of services and their versions
// registered on vCenter (supervisor_services, supervisor_services.versions), the parsing and trust
// checks of their content (custom YAML, the vSphere application service format and Carvel
// packages), the built-in services registered by default, and installing services on Supervisors
// (supervisor_services.cluster_supervisor_services) with the controller that drives each install
// through CONFIGURING, CONFIGURED, ERROR and REMOVING. docs/services.md describes the behaviour.
package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Store kinds of the family.
const (
	kindServices = "supervisor-services"
	kindContents = "supervisor-service-contents"
	kindInstalls = "supervisor-service-installs"
	kindMeta     = "supervisor-services-meta"
)

// serviceRecord is one Supervisor Service with the metadata and states of its versions. Keeping the
// versions in the service's record makes every state rule (the last activated version, deleting a
// service without versions) one atomic read-modify-write; contents live in their own records so this
// one stays small.
type serviceRecord struct {
	ID              string                   `json:"id"`
	DisplayName     string                   `json:"display_name"`
	Description     string                   `json:"description,omitempty"`
	State           string                   `json:"state"`
	MustBeInstalled bool                     `json:"must_be_installed,omitempty"`
	Versions        map[string]versionRecord `json:"versions"`
	Created         time.Time                `json:"created"`
}

// hasDefaultVersions reports whether a version was registered by default.
func (s *serviceRecord) hasDefaultVersions() bool {
	for _, v := range s.Versions {
		if v.RegisteredByDefault {
			return true
		}
	}
	return false
}

// versionRecord is one version of a service; its content is the record ContentKey in kindContents.
type versionRecord struct {
	DisplayName         string    `json:"display_name"`
	Description         string    `json:"description,omitempty"`
	EULA                string    `json:"eula,omitempty"`
	ContentType         string    `json:"content_type"`
	ContentKey          string    `json:"content_key"`
	TrustVerified       bool      `json:"trust_verified"`
	State               string    `json:"state"`
	RegisteredByDefault bool      `json:"registered_by_default,omitempty"`
	Created             time.Time `json:"created"`
}

// contentRecord holds a version's content, base64 encoded as the API returns it. Its key is
// <service>/<version>/<nonce>: a failed create removes only the content it wrote itself.
type contentRecord struct {
	Service string    `json:"service"`
	Version string    `json:"version"`
	Content string    `json:"content"`
	Created time.Time `json:"created"`
}

// metaRecord remembers that the built-in services were registered, so that a service or version the
// administrator removed does not come back at the next start.
type metaRecord struct {
	BuiltinsRegistered time.Time `json:"builtins_registered"`
	TrustKeyFile       string    `json:"trust_key_file"`
}

// Family is the services API family.
type Family struct {
	deps *platform.Deps
	log  *slog.Logger

	services *store.Collection[serviceRecord]
	contents *store.Collection[contentRecord]
	installs *store.Collection[installRecord]
	meta     *store.Collection[metaRecord]
	ctl      *controller.Controller

	// mu serialises the handlers that check one record and write another (a version is deleted only
	// when no install uses it; an install is created only while its version is activated), so their
	// checks hold within this process. Single-record rules are enforced inside store.Mutate.
	mu sync.Mutex

	// trust follows the trust store's files for the kept answers of check_content.
	trust *trustWatch

	// clusterExists tells a cluster that does not exist from one without a Supervisor; tests replace it.
	clusterExists func(ctx context.Context, id string) (bool, error)
}

// New builds the family. It only keeps d: d may be empty (the coverage command).
func New(d *platform.Deps) *Family {
	f := &Family{deps: d}
	f.clusterExists = func(ctx context.Context, id string) (bool, error) {
		if f.deps.Inventory == nil {
			return false, nil
		}
		_, err := f.deps.Inventory.Cluster(ctx, id)
		if errors.Is(err, inventory.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	return f
}

// Register attaches the family's handlers.
func (f *Family) Register(r *vapi.Registry) {
	const svc = "namespace_management.supervisor_services"
	r.Handle(svc, "check_content", f.checkContent)
	r.Handle(svc, "create", f.createService)
	r.Handle(svc, "get", f.getService)
	r.Handle(svc, "list", f.listServices)
	r.Handle(svc, "update", f.updateService)
	r.Handle(svc, "delete", f.deleteService)
	r.Handle(svc, "activate", f.activateService)
	r.Handle(svc, "deactivate", f.deactivateService)

	const ver = svc + ".versions"
	r.Handle(ver, "create", f.createVersion)
	r.Handle(ver, "get", f.getVersion)
	r.Handle(ver, "list", f.listVersions)
	r.Handle(ver, "delete", f.deleteVersion)
	r.Handle(ver, "activate", f.activateVersion)
	r.Handle(ver, "deactivate", f.deactivateVersion)

	const inst = svc + ".cluster_supervisor_services"
	r.Handle(inst, "create", f.createInstall)
	r.Handle(inst, "get", f.getInstall)
	r.Handle(inst, "list", f.listInstalls)
	r.Handle(inst, "set", f.setInstall)
	r.Handle(inst, "delete", f.deleteInstall)
	// Services, versions and installs are records in the store (an install's readiness too): the
	// API keeps the answers of their reads.
	r.Keep(svc, "get", "list")
	r.Keep(ver, "get", "list")
	r.Keep(inst, "get", "list")
	// A content's check reads the content and the trust store's files, which the administrator
	// edits outside any API: kept while the kernel reports no change to those files (trustwatch.go).
	f.trust = newTrustWatch(f.trustDir())
	r.KeepVersioned(svc, "check_content", f.trust.version)
}

// Start opens the family's collections, registers the built-in services on first start, and starts
// the install controller, resuming every install that was under way.
func (f *Family) Start(ctx context.Context) error {
	f.log = f.deps.Logger
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.log = f.log.With("family", "services")
	var err error
	if f.services, err = store.NewCollection[serviceRecord](f.deps.Store, kindServices); err != nil {
		return err
	}
	if f.contents, err = store.NewCollection[contentRecord](f.deps.Store, kindContents); err != nil {
		return err
	}
	if f.installs, err = store.NewCollection[installRecord](f.deps.Store, kindInstalls); err != nil {
		return err
	}
	if f.meta, err = store.NewCollection[metaRecord](f.deps.Store, kindMeta); err != nil {
		return err
	}
	if err := f.registerBuiltins(ctx); err != nil {
		return fmt.Errorf("services: registering the built-in Supervisor Services: %w", err)
	}
	f.collectOrphanContents(ctx)

	f.ctl = controller.New("supervisor-service-installs", controller.Func(f.reconcile), f.deps.Clock, f.log)
	f.deps.Controllers.Add(f.ctl)
	for _, rec := range f.installs.ListShared() {
		if rec.Value.ConfigStatus == installConfiguring || rec.Value.ConfigStatus == installRemoving {
			f.ctl.Enqueue(rec.Key)
		}
	}
	f.ctl.Enqueue(pollKey)
	return nil
}

// trustDir is where the administrator keeps the trusted keys.
func (f *Family) trustDir() string {
	if f.deps.DataDir == "" {
		return ""
	}
	return filepath.Join(f.deps.DataDir, trustDirName)
}

func (f *Family) now() time.Time { return f.deps.Clock.Now().UTC() }

// collectOrphanContents removes contents that no version points to: left behind when wcpd stopped
// between writing a content and registering its version, or between unregistering a version and
// removing its content. Recent ones are left alone, as another wcpd sharing the store may be about to
// register them.
func (f *Family) collectOrphanContents(ctx context.Context) {
	cutoff := f.now().Add(-time.Minute)
	for _, rec := range f.contents.ListShared() {
		c := rec.Value
		if s, ok := f.services.Get(c.Service); ok {
			if v, ok := s.Value.Versions[c.Version]; ok && v.ContentKey == rec.Key {
				continue
			}
		}
		if c.Created.After(cutoff) {
			continue
		}
		if err := f.contents.Delete(ctx, rec.Key, rec.Revision); err != nil && !errors.Is(err, store.ErrNotFound) {
			f.log.Warn("removing an orphaned Supervisor Service content", "key", rec.Key, "error", err)
		}
	}
}

// storeError turns a store failure into the error to answer with.
func storeError(err error, what string) error {
	var ve *vapi.Error
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.Is(err, store.ErrConflict):
		return vapi.NewError(vapi.ErrorConcurrentChange, "wcpd.supervisor_services.concurrent_change",
			fmt.Sprintf("%s was changed by another request at the same time; read it again and retry.", what), what)
	}
	return err
}
