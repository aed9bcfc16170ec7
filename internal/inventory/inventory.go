// Package inventory owns wcpd's vSphere inventory: an embedded govmomi
// simulator (vCenter SOAP, PBM and the simulator's own vAPI services) seeded
// from a YAML description and, given a store, kept durable there (durable.go),
// the HTTP handlers that serve it on wcpd's listener, in-process clients for wcpd's controllers, and the read-side
// lookups (clusters, hosts, datastores, switches, storage policies, content
// libraries) the API services need.
//
// Every Inventory is self-contained: it has its own simulator registry,
// session manager, PBM and vAPI state, temporary directory and a
// loopback-only listener that the simulator's vAPI side uses to call itself.
// Several Inventories can run in one process.
package inventory

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/vpx"
	"github.com/vmware/govmomi/vapi/rest"
	vapisim "github.com/vmware/govmomi/vapi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/store"
)

// Config configures Start.
type Config struct {
	// File is a YAML inventory description (see docs/inventory.md);
	// "" means the built-in default.
	File string
	// Spec, when set, is used instead of File (for tests and embedding).
	Spec *Spec
	// Logger receives start-up and proxy diagnostics; nil discards them.
	Logger *slog.Logger
	// ValidLogin checks SOAP/PBM logins (SessionManager.Login) against
	// wcpd's identity store. nil accepts any non-empty user and password
	// (tests only).
	ValidLogin func(user, password string) bool
	// Store, when set, makes the inventory durable (see durable.go): it is
	// kept there and rebuilt from there at the next Start, and the stored
	// seed wins over File and Spec. nil keeps it in memory only.
	Store *store.Store
	// Dir holds the datastores' files (VM files, library items) of a
	// durable inventory; required with Store.
	Dir string
}

// ErrNotFound is wrapped by lookups of an id that does not exist.
var ErrNotFound = errors.New("not found")

// Inventory is a running embedded vSphere inventory.
type Inventory struct {
	log *slog.Logger
	// vmWatch tells subscribers of VM changes (vmwatch.go).
	vmWatch *vmWatch
	// poolNames indexes the names of pools' children for CreateResourcePool (poolcreate.go).
	poolNames *poolNames
	// vmPlacements mends the VM lists of pools, hosts and datastores after a relocation (relocate.go).
	vmPlacements *vmPlacements
	spec         *Spec
	dir          string // the simulator's own scratch files; removed by Close
	// files holds the datastores: dir for an in-memory inventory, Config.Dir
	// for a durable one.
	files string

	// durable mirrors the inventory into the store; nil without one.
	durable *durable
	pbm     *profileManager

	svc    *simulator.Service
	server *simulator.Server
	vapi   *vapiProxy

	client *vim25.Client
	relog  *reloginTransport
	rest   *rest.Client

	// generation and topology count the inventory's changes (see Generation).
	generation atomic.Uint64
	topology   atomic.Uint64
	changes    changeLog
	// clusters keeps what Clusters read until the topology changes, policies what StoragePolicies
	// read until the policies change, libraries what ContentLibraries read until a request to the
	// vAPI services may have changed them.
	clusters  keptList[Cluster]
	policies  keptList[StoragePolicy]
	libraries keptList[ContentLibrary]
	// treeSizes holds, per root pool, how many pools and VMs ReadPoolTree last found below it.
	treeSizes sync.Map // string -> [2]int

	// stopSweep ends the removal of finished tasks (tasks.go).
	stopSweep chan struct{}

	closeOnce sync.Once
}

// internalUser is the account the inventory's own clients (and the
// simulator's vAPI side, which calls back into SOAP) log in with. Its
// password is random per Inventory and never leaves the process.
const internalUser = "wcpd-inventory"

// Start builds the inventory described by cfg and starts serving it on a
// loopback listener used only internally. Mount its handlers (SOAPHandler,
// VAPIHandler) on wcpd's listener for external clients.
func Start(ctx context.Context, cfg Config) (*Inventory, error) {
	started := time.Now()
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	spec := cfg.Spec
	if spec == nil {
		var err error
		if cfg.File == "" {
			spec = DefaultSpec()
		} else if spec, err = LoadSpec(cfg.File); err != nil {
			return nil, err
		}
	} else if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}

	var restoring bool
	if cfg.Store != nil {
		if cfg.Dir == "" {
			return nil, errors.New("inventory: a durable inventory needs a directory for its files")
		}
		seed, err := storedSeed(ctx, cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("inventory: %w", err)
		}
		if seed != nil {
			if !sameSpec(seed, spec) {
				logger.Warn("the inventory file differs from the one this data dir was built from; "+
					"the stored inventory is used (start with a fresh data dir to build from the file)",
					"file", cfg.File)
			}
			spec, restoring = seed, true
		} else if err := os.RemoveAll(filepath.Join(cfg.Dir, "datastores")); err != nil {
			// Files of a seed that was never completely written.
			return nil, fmt.Errorf("inventory: %w", err)
		}
	}

	dir, err := os.MkdirTemp("", "wcpd-inventory-")
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	inv := &Inventory{log: logger, spec: spec, dir: dir, files: dir}
	if cfg.Store != nil {
		inv.files = cfg.Dir
	}
	if err := inv.start(ctx, cfg, restoring); err != nil {
		inv.Close()
		return nil, fmt.Errorf("inventory: %w", err)
	}
	inv.stopSweep = make(chan struct{})
	go inv.sweepTasksEvery(inv.stopSweep)
	logger.Info("inventory ready",
		"datacenter", spec.Datacenter,
		"clusters", len(spec.Clusters),
		"internal_url", inv.server.URL.Host,
		"durable", cfg.Store != nil, "restored", restoring,
		"elapsed", time.Since(started).Round(time.Millisecond))
	return inv, nil
}

func (inv *Inventory) start(ctx context.Context, cfg Config, restoring bool) error {
	password, err := randomSecret()
	if err != nil {
		return err
	}
	internal := url.UserPassword(internalUser, password)

	simCtx := simulator.NewContext()
	privateLicenses(simCtx.Map)
	simCtx, instance := simulator.NewServiceInstance(simCtx, vpx.ServiceContent, vpx.RootFolder)
	svc := simulator.New(simCtx, instance)
	inv.svc = svc
	m := simCtx.Map
	nameTaskInitiators(m)
	privateSettings(m.OptionManager(), inv.dir)
	presentAsVCenter8(instance)

	b := &builder{ctx: ctx, sim: simCtx, m: m, spec: inv.spec, dir: inv.files}
	if err := b.build(); err != nil {
		return err
	}

	pbmRegistry, pbm := newPBMRegistry(inv.spec.StoragePolicies, time.Now().UTC())
	svc.RegisterSDK(pbmRegistry)
	inv.pbm = pbm

	sessions := m.SessionManager()
	sessions.ValidLogin = func(req *types.Login) bool {
		if req.UserName == internalUser {
			return subtle.ConstantTimeCompare([]byte(req.Password), []byte(password)) == 1
		}
		if cfg.ValidLogin == nil {
			return req.UserName != "" && req.Password != ""
		}
		return cfg.ValidLogin(req.UserName, req.Password)
	}
	m.Handler = inv.countChanges
	m.AddHandler(changeListener{inv.counts()})
	inv.vmWatch = &vmWatch{}
	m.AddHandler(inv.vmWatch)
	inv.poolNames = &poolNames{}
	m.AddHandler(inv.poolNames)
	inv.vmPlacements = &vmPlacements{was: map[types.ManagedObjectReference]placement{}}
	m.AddHandler(inv.vmPlacements)

	svc.Listen = &url.URL{Scheme: "http", Host: "127.0.0.1:0", User: internal}
	inv.server = svc.NewServer()

	patterns, vapiHandler := vapisim.New(inv.server.URL, m)
	inv.vapi = newVAPIProxy(vapiHandler, inv.server.URL, internal, inv.log)
	linked := vapiHandler
	if tagging, ok := vapiHandler.(simulatorTagging); ok {
		linked = soapTagging{Handler: vapiHandler, simulatorTagging: tagging, proxy: inv.vapi}
	}
	for _, p := range patterns {
		// Service.Handle also links the tagging service to the SOAP side, which a VM's
		// reconfiguration with tags relies on.
		svc.Handle(p, linked)
	}

	if inv.client, inv.relog, err = newInternalClient(ctx, inv.server.URL, internal, inv.counts()); err != nil {
		return fmt.Errorf("internal SOAP client: %w", err)
	}
	inv.rest = rest.NewClient(inv.client)
	inv.rest.Transport = inv.vapi.transport()

	if cfg.Store == nil {
		return inv.createLibraries(ctx, b)
	}
	d := newDurable(cfg.Store, m, inv.log)
	d.vapi, d.pbm = inv.vapi, pbm
	if restoring {
		if err := d.restore(ctx); err != nil {
			return fmt.Errorf("restoring the stored inventory: %w", err)
		}
	} else if err := inv.createLibraries(ctx, b); err != nil {
		return err
	}
	m.AddHandler(d)
	pbm.changed = d.pbmChanged
	inv.vapi.changed, inv.vapi.sync = d.vapiChanged, d.sync
	inv.relog.sync, inv.relog.touched = d.sync, d.touched
	inv.durable = d
	if !restoring {
		if err := d.seed(ctx, inv.spec); err != nil {
			return fmt.Errorf("saving the inventory: %w", err)
		}
	}
	d.run()
	return nil
}

// sameSpec reports whether two inventory descriptions are the same.
func sameSpec(a, b *Spec) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}

// Sync returns once every change made to the inventory so far is in the
// store (at once for an inventory without one).
func (inv *Inventory) Sync(ctx context.Context) error { return inv.durable.sync(ctx) }

// privateSettings gives this simulator its own copy of vCenter's advanced
// settings. The simulator starts every instance on one shared slice of
// pointers and rewrites entries in place when its server starts, so without
// the copy concurrent Inventories would race and see each other's URLs.
func privateSettings(om *simulator.OptionManager, home string) {
	settings := make([]types.BaseOptionValue, 0, len(om.Setting)+2)
	for _, s := range om.Setting {
		v := *s.GetOptionValue()
		settings = append(settings, &v)
	}
	// Where the simulator keeps files it creates on its own.
	settings = append(settings, &types.OptionValue{Key: "vcsim.home", Value: home})
	om.Setting = settings
}

// The vCenter release the inventory reports: the release whose Supervisor
// API wcpd implements (the simulator's own default is 6.5, which clients
// gate newer features on).
const (
	VCenterVersion = "8.0.2"
	VCenterBuild   = "22385739"
	VCenterAPI     = "8.0.2.0"
)

func presentAsVCenter8(si *simulator.ServiceInstance) {
	about := &si.Content.About
	about.Version = VCenterVersion
	about.Build = VCenterBuild
	about.ApiVersion = VCenterAPI
	about.FullName = fmt.Sprintf("VMware vCenter Server %s build-%s", VCenterVersion, VCenterBuild)
}

// privateLicenses registers the license managers before the service
// instance is created, so the simulator skips its own initialisation of
// them: that appends to the package-level simulator.EvalLicense on every
// instance, racing with every other simulator in the process reading it.
func privateLicenses(m *simulator.Registry) {
	about := vpx.ServiceContent.About
	eval := simulator.EvalLicense
	eval.Properties = append(slices.Clone(eval.Properties),
		types.KeyAnyValue{Key: "ProductName", Value: about.LicenseProductName},
		types.KeyAnyValue{Key: "ProductVersion", Value: about.LicenseProductVersion},
	)
	assignments := &types.ManagedObjectReference{Type: "LicenseAssignmentManager", Value: "LicenseAssignmentManager"}

	licenses := &simulator.LicenseManager{}
	licenses.Self = *vpx.ServiceContent.LicenseManager
	licenses.Licenses = []types.LicenseManagerLicenseInfo{eval}
	licenses.LicenseAssignmentManager = assignments
	m.Put(licenses)

	lam := &simulator.LicenseAssignmentManager{}
	lam.Self = *assignments
	lam.QueryAssignedLicensesResponse.Returnval = []types.LicenseAssignmentManagerLicenseAssignment{{
		EntityId:          about.InstanceUuid,
		EntityDisplayName: "vcsim",
		AssignedLicense:   eval,
	}}
	m.Put(lam)
	m.AddHandler(lam) // assigns the evaluation license to new hosts and clusters
}

// refuseUncheckedLogins rejects the SOAP login methods that the simulator
// accepts without checking anything (a SAML token's subject, an extension
// certificate, impersonation): logins must go through ValidLogin.
func refuseUncheckedLogins(_ *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
	switch method.Name {
	case "LoginByToken", "LoginExtensionByCertificate", "LoginExtensionBySubjectName",
		"LoginExtensionByCertificateAndPrivateKey", "ImpersonateUser":
		return nil, &types.InvalidLogin{}
	}
	return nil, nil
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Close stops the internal listener and removes the inventory's files.
func (inv *Inventory) Close() {
	inv.closeOnce.Do(func() {
		if inv.stopSweep != nil {
			close(inv.stopSweep)
		}
		inv.durable.close()
		if inv.server != nil {
			inv.server.Close()
		}
		if inv.dir != "" {
			if err := os.RemoveAll(inv.dir); err != nil {
				inv.log.Warn("removing inventory files", "dir", inv.dir, "err", err)
			}
		}
	})
}

// Spec returns the description the inventory was built from.
func (inv *Inventory) Spec() *Spec { return inv.spec }

// Client returns an authenticated SOAP client for wcpd's controllers. It
// talks to the loopback listener and logs in again by itself if its
// session is terminated.
func (inv *Inventory) Client() *vim25.Client { return inv.client }

// RESTClient returns a vAPI client (content library, tagging, OVF) whose
// requests are served in process with the inventory's internal session.
func (inv *Inventory) RESTClient() *rest.Client { return inv.rest }

// SetPublicURL tells the inventory where external clients reach it (wcpd's
// listener), so URLs it hands out for disk transfers (NFC leases for OVF
// import/export) point there instead of at the internal listener.
func (inv *Inventory) SetPublicURL(ctx context.Context, u *url.URL) error {
	public := url.URL{Scheme: u.Scheme, Host: u.Host, Path: vim25.Path}
	c := inv.client
	return object.NewOptionManager(c, *c.ServiceContent.Setting).Update(ctx, []types.BaseOptionValue{
		&types.OptionValue{Key: "vcsim.server.url", Value: public.String()},
	})
}

// soapPatterns are the paths of the SOAP side and the simulator's file
// transfer endpoints, relative to the server root. The simulator's
// /guestFile/ endpoint is left out: it runs docker commands for
// container-backed VMs, named by an unchecked query parameter.
var soapPatterns = []string{
	"/sdk",                         // vim25 SOAP
	"/sdk/vimService",              // vim25 SOAP, the path some SDKs use
	"/sdk/vimServiceVersions.xml",  // API version discovery
	"/sdk/vsanServiceVersions.xml", // vSAN version discovery (govc asks)
	"/pbm",                         // storage policy (PBM) SOAP
	"/folder/",                     // datastore file access (needs a SOAP session)
	"/nfc/",                        // OVF import/export disk transfer (lease ids are capabilities)
	"/about",                       // the simulator's list of types and methods
}

// SOAPPatterns lists the ServeMux patterns that belong to SOAPHandler.
func (inv *Inventory) SOAPPatterns() []string { return append([]string(nil), soapPatterns...) }

// SOAPHandler serves the SOAP side. Clients authenticate with
// SessionManager.Login (checked by Config.ValidLogin) and carry the
// simulator's vmware_soap_session cookie. Paths outside SOAPPatterns get
// 404: the simulator's mux behind it also holds its own vAPI session
// endpoint, which must never be reachable from outside.
func (inv *Inventory) SOAPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isSOAPPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		// The simulator serves datastore files to anyone; vCenter wants a session.
		if strings.HasPrefix(r.URL.Path, "/folder/") && !inv.hasSOAPSession(r) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var refs []types.ManagedObjectReference
		call := isSOAPCall(r)
		if call {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
				return
			}
			// Switches as the simulator knows them (switchtype.go).
			body = acceptSwitches(body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.Header.Del("Content-Length")
			if inv.durable != nil {
				refs = soapCall(body)
			}
		}
		if inv.durable != nil {
			// The answer waits until the changes it reports are in the store.
			sw := &syncedWriter{ResponseWriter: w, sync: func() error {
				inv.durable.touched(refs)
				return inv.Sync(r.Context())
			}}
			defer sw.ready()
			w = sw
		}
		if !call {
			afterChanges(inv.counts(), func() { inv.svc.ServeMux.ServeHTTP(w, r) })
			return
		}
		// The answer is held back to present its switches as clients see them.
		res := newBufferedResponse()
		afterChanges(inv.counts(), func() { inv.svc.ServeMux.ServeHTTP(res, r) })
		res.copyTo(w, presentSwitches(res.body.Bytes()))
	})
}

// hasSOAPSession reports whether r carries the cookie of a live SOAP
// session, by asking the simulator (in process) for that session's user.
func (inv *Inventory) hasSOAPSession(r *http.Request) bool {
	cookie, err := r.Cookie(soap.SessionCookieName)
	if err != nil || cookie.Value == "" {
		return false
	}
	sc := soap.NewClient(inv.server.URL, true)
	sc.Namespace = "urn:" + vim25.Namespace
	sc.Version = vim25.Version
	sc.Transport = serveInProcess(inv.svc.ServeMux)
	sc.Jar.SetCookies(inv.server.URL, []*http.Cookie{{Name: soap.SessionCookieName, Value: cookie.Value}})
	c := &vim25.Client{Client: sc, RoundTripper: sc, ServiceContent: inv.client.ServiceContent}
	user, err := session.NewManager(c).UserSession(r.Context())
	return err == nil && user != nil
}

func isSOAPPath(path string) bool {
	for _, p := range soapPatterns {
		if path == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
			return true
		}
	}
	return false
}

// Mount registers SOAPHandler on SOAPPatterns and VAPIHandler, wrapped by
// requireSession, on VAPIPrefixes. requireSession is wcpd's vAPI session
// check: VAPIHandler trusts every request it gets, so it is mandatory.
func (inv *Inventory) Mount(mux *http.ServeMux, requireSession func(http.Handler) http.Handler) {
	if requireSession == nil {
		panic("inventory: Mount needs a session check for the vAPI routes")
	}
	soapHandler := inv.SOAPHandler()
	for _, p := range soapPatterns {
		mux.Handle(p, soapHandler)
	}
	vapiHandler := requireSession(inv.VAPIHandler())
	for _, p := range vapiPrefixes {
		mux.Handle(p, vapiHandler)
	}
}
