package test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/servertest"
)

// Conformance tests that drive wcpd only through govmomi's clients, for the calls no other test
// makes (docs/conformance.md lists which test covers each client method and govc command). They
// share one server; each subtest uses its own cluster, services and sessions.

// cfForgedSigner signs requests the way a holder of a SAML token would (govc session.login -token),
// with a token no STS issued.
type cfForgedSigner struct{}

func (cfForgedSigner) SignRequest(r *http.Request) error {
	r.Header.Set("Authorization", `SIGN token="PHNhbWw6QXNzZXJ0aW9uPmZvcmdlZDwvc2FtbDpBc3NlcnRpb24+", nonce="1", signature_alg="RSA-SHA256", signature="AAAA"`)
	return nil
}

func TestConformanceClients(t *testing.T) {
	t.Parallel()
	shared := servertest.New(t)
	ctx := context.Background()

	t.Run("RestClientSessions", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		c := rest.NewClient(env.Vim25(ctx))
		if c.SessionID() != "" {
			t.Fatalf("a new client has a session: %q", c.SessionID())
		}
		if s, err := c.Session(ctx); err != nil || s != nil {
			t.Fatalf("Session before Login: %+v %v", s, err)
		}
		if err := c.Login(ctx, url.UserPassword(servertest.Admin, servertest.AdminPassword)); err != nil {
			t.Fatalf("Login: %v", err)
		}
		id := c.SessionID()
		if id == "" {
			t.Fatal("Login left no session id")
		}
		// The session id is the token of /api too.
		if r := env.Do("GET", "/api/session", id, nil); r.Status != 200 || !strings.Contains(string(r.Body), `VSPHERE.LOCAL\\administrator`) {
			t.Fatalf("the Login session on /api: %d %s", r.Status, r.Body)
		}

		// A client saved and restored (govc's session cache) keeps the session.
		saved, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var restored rest.Client
		if err := json.Unmarshal(saved, &restored); err != nil || !restored.Valid() || restored.SessionID() != id {
			t.Fatalf("restoring a saved client: %v valid=%v id=%q", err, restored.Valid(), restored.SessionID())
		}
		s, err := restored.Session(ctx)
		if err != nil || s == nil || s.User != `VSPHERE.LOCAL\administrator` {
			t.Fatalf("Session of the restored client: %+v %v", s, err)
		}

		// Resource and Do: on /rest the answer is unwrapped from {"value": …}; on /api it is bare;
		// the operation id of the context travels as X-Request-ID and comes back.
		var class struct {
			ID       string `json:"id"`
			MemoryMB int64  `json:"memory_MB"`
			CPUs     int64  `json:"cpu_count"`
		}
		if err := c.Do(ctx, c.Resource("/vcenter/namespace-management/virtual-machine-classes/best-effort-large").Request(http.MethodGet), &class); err != nil ||
			class.ID != "best-effort-large" || class.CPUs != 4 || class.MemoryMB != 16384 {
			t.Fatalf("Do on /rest: %+v %v", class, err)
		}
		class.ID = ""
		if err := c.Do(ctx, c.Resource("/api/vcenter/namespace-management/virtual-machine-classes/guaranteed-small").Request(http.MethodGet), &class); err != nil ||
			class.ID != "guaranteed-small" || class.MemoryMB != 4096 {
			t.Fatalf("Do on /api: %+v %v", class, err)
		}
		var raw rest.RawResponse
		withID := context.WithValue(ctx, types.ID{}, "conformance-rest-42")
		if err := c.Do(withID, c.Resource("/api/vcenter/namespace-management/software/cluster-available-versions").Request(http.MethodGet), &raw); err != nil ||
			!strings.Contains(raw.String(), "X-Request-Id: conformance-rest-42") || !strings.Contains(raw.String(), `"version":"`+ver1_28_8+`"`) {
			t.Fatalf("Do with an operation id: %v\n%s", err, raw.String())
		}
		// WithHeader: a client without a session of its own may send an /api token as a header.
		bare := rest.NewClient(env.Vim25(ctx))
		withToken := bare.WithHeader(ctx, http.Header{"vmware-api-session-id": {env.AdminToken()}})
		class.ID = ""
		if err := bare.Do(withToken, bare.Resource("/api/vcenter/namespace-management/virtual-machine-classes/best-effort-xsmall").Request(http.MethodGet), &class); err != nil ||
			class.ID != "best-effort-xsmall" || class.MemoryMB != 2048 {
			t.Fatalf("Do with a session header from WithHeader: %+v %v", class, err)
		}
		// Errors: 404 and 401 are status errors; a 400 carries the vAPI error's body.
		err = c.Do(ctx, c.Resource("/api/vcenter/namespace-management/virtual-machine-classes/no-such-class").Request(http.MethodGet), nil)
		if !rest.IsStatusError(err, http.StatusNotFound) {
			t.Fatalf("Do of an unknown class: %v", err)
		}
		err = c.Do(ctx, c.Resource("/api/vcenter/namespace-management/virtual-machine-classes").Request(http.MethodPost, map[string]any{"id": "Bad Id", "cpu_count": 1, "memory_MB": 1024}), nil)
		if !govmomiErrorIs(err, "INVALID_ARGUMENT") || !strings.Contains(err.Error(), "spec.id") || !strings.Contains(err.Error(), "Bad Id") {
			t.Fatalf("Do of a bad create: %v", err)
		}

		// LoginByToken: wcpd has no STS, so a token login (unsigned, or signed with a token no STS
		// issued) is refused with 401 and leaves the client without a session.
		anon := rest.NewClient(env.Vim25(ctx))
		if err := anon.LoginByToken(ctx); !rest.IsStatusError(err, http.StatusUnauthorized) || anon.SessionID() != "" {
			t.Fatalf("LoginByToken without a token: %v (session %q)", err, anon.SessionID())
		}
		if err := anon.LoginByToken(anon.WithSigner(ctx, cfForgedSigner{})); !rest.IsStatusError(err, http.StatusUnauthorized) || anon.SessionID() != "" {
			t.Fatalf("LoginByToken with a forged token: %v (session %q)", err, anon.SessionID())
		}
		if err := anon.Do(ctx, anon.Resource("/api/vcenter/namespaces/instances").Request(http.MethodGet), nil); !rest.IsStatusError(err, http.StatusUnauthorized) {
			t.Fatalf("a client whose token login failed lists namespaces: %v", err)
		}

		// Logout ends the session for every copy of the client.
		if err := c.Logout(ctx); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if s, err := restored.Session(ctx); err != nil || s != nil {
			t.Fatalf("the restored client's session after Logout: %+v %v", s, err)
		}
		if err := c.Logout(ctx); !rest.IsStatusError(err, http.StatusUnauthorized) {
			t.Fatalf("a second Logout: %v", err)
		}
	})

	t.Run("GovmomiServiceStates", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
		const id = "states.example.com"
		if err := m.CreateSupervisorService(ctx, &namespace.SupervisorService{CarvelService: &namespace.SupervisorServicesCarvelSpec{
			VersionSpec: namespace.CarvelVersionCreateSpec{Content: svcB64(svcCarvelYAML(id, "1.0.0"))}}}); err != nil {
			t.Fatal(err)
		}
		if err := m.CreateSupervisorServiceVersion(ctx, id, &namespace.SupervisorServiceVersion{
			CarvelService: &namespace.CarvelVersionCreateSpec{Content: svcB64(svcCarvelYAML(id, "2.0.0"))}}); err != nil {
			t.Fatal(err)
		}
		// states reads the service's state and its versions' states back through govmomi.
		states := func() string {
			t.Helper()
			info, err := m.GetSupervisorService(ctx, id)
			if err != nil {
				t.Fatalf("GetSupervisorService: %v", err)
			}
			versions, err := m.ListSupervisorServiceVersions(ctx, id)
			if err != nil {
				t.Fatalf("ListSupervisorServiceVersions: %v", err)
			}
			out := info.State
			for _, v := range versions {
				out += " " + v.Version + "=" + v.State
			}
			return out
		}
		steps := []struct {
			what string
			call func() error
			want string
		}{
			{"created", func() error { return nil }, "ACTIVATED 1.0.0=ACTIVATED 2.0.0=ACTIVATED"},
			{"DeactivateSupervisorServiceVersion", func() error { return m.DeactivateSupervisorServiceVersion(ctx, id, "1.0.0") }, "ACTIVATED 1.0.0=DEACTIVATED 2.0.0=ACTIVATED"},
			{"ActivateSupervisorServiceVersion", func() error { return m.ActivateSupervisorServiceVersion(ctx, id, "1.0.0") }, "ACTIVATED 1.0.0=ACTIVATED 2.0.0=ACTIVATED"},
			{"DeactivateSupervisorServices", func() error { return m.DeactivateSupervisorServices(ctx, id) }, "DEACTIVATED 1.0.0=DEACTIVATED 2.0.0=DEACTIVATED"},
			{"ActivateSupervisorServices", func() error { return m.ActivateSupervisorServices(ctx, id) }, "ACTIVATED 1.0.0=ACTIVATED 2.0.0=ACTIVATED"},
			{"DeactivateSupervisorServices again", func() error { return m.DeactivateSupervisorServices(ctx, id) }, "DEACTIVATED 1.0.0=DEACTIVATED 2.0.0=DEACTIVATED"},
			{"RemoveSupervisorServiceVersion", func() error { return m.RemoveSupervisorServiceVersion(ctx, id, "1.0.0") }, "DEACTIVATED 2.0.0=DEACTIVATED"},
		}
		for _, s := range steps {
			if err := s.call(); err != nil {
				t.Fatalf("%s: %v", s.what, err)
			}
			if got := states(); got != s.want {
				t.Fatalf("after %s: %s, want %s", s.what, got, s.want)
			}
		}
		if v, err := m.GetSupervisorServiceVersion(ctx, id, "2.0.0"); err != nil || v.State != "DEACTIVATED" || v.ContentType != "CARVEL_APPS_YAML" || v.TrustVerified {
			t.Fatalf("GetSupervisorServiceVersion: %+v %v", v, err)
		}
		if _, err := m.GetSupervisorServiceVersion(ctx, id, "1.0.0"); !rest.IsStatusError(err, http.StatusNotFound) {
			t.Fatalf("GetSupervisorServiceVersion of the removed version: %v", err)
		}
		// A service with a version left cannot go; once the last version is gone it can.
		if err := m.RemoveSupervisorService(ctx, id); !govmomiErrorIs(err, "NOT_ALLOWED_IN_CURRENT_STATE") {
			t.Fatalf("RemoveSupervisorService with a version left: %v", err)
		}
		if err := m.RemoveSupervisorServiceVersion(ctx, id, "2.0.0"); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveSupervisorService(ctx, id); err != nil {
			t.Fatalf("RemoveSupervisorService: %v", err)
		}
		list, err := m.ListSupervisorServices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if s.ID == id {
				t.Fatalf("ListSupervisorServices after RemoveSupervisorService: %+v", list)
			}
		}
		if err := m.ActivateSupervisorServices(ctx, id); !rest.IsStatusError(err, http.StatusNotFound) {
			t.Fatalf("ActivateSupervisorServices of a removed service: %v", err)
		}
	})

	t.Run("GovmomiEnableOnZonesAndSupportBundle", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		m := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
		dhcp := false
		spec := &namespace.EnableOnZonesSpec{
			Zones: []string{"zone-" + clusterB},
			Name:  "zonal-b",
			ControlPlane: namespace.ControlPlane{
				Network: namespace.ControlPlaneNetwork{
					Backing: namespace.Backing{Backing: "NETWORK", Network: clPtr(portgroupMgmt)},
					IPManagement: &namespace.IPManagement{DHCPEnabled: &dhcp, GatewayAddress: clPtr("10.25.0.1/24"),
						IPAssignments: &[]namespace.IPAssignment{{Ranges: []namespace.IPRange{{Address: "10.25.0.10", Count: 5}}}}},
					Services: &namespace.Services{DNS: &namespace.DNS{Servers: []string{"10.0.0.53"}}},
				},
				Size:          clPtr("SMALL"),
				StoragePolicy: clPtr(policyGold),
			},
			Workloads: namespace.Workloads{
				Network: namespace.WorkloadNetwork{NetworkType: "VSPHERE", VSphere: &namespace.NetworkVSphere{DVPG: portgroupWork},
					IPManagement: &namespace.IPManagement{DHCPEnabled: &dhcp, GatewayAddress: clPtr("10.35.0.1/24"),
						IPAssignments: &[]namespace.IPAssignment{{Ranges: []namespace.IPRange{{Address: "10.35.0.10", Count: 100}}}}}},
				Edge: namespace.Edge{Provider: clPtr("HAPROXY"), LoadBalancerAddressRanges: &[]namespace.IPRange{{Address: "10.45.0.10", Count: 20}},
					HAProxy: &namespace.HAProxy{Servers: []namespace.EdgeServer{{Host: "10.45.0.2", Port: 5556}}, Username: "admin", Password: "pw", CertificateAuthorityChain: lbTestCA}},
			},
		}
		// A zone wcpd does not have is refused, naming it.
		bad := *spec
		bad.Zones = []string{"zone-nowhere"}
		if _, err := m.EnableOnZones(ctx, &bad); !govmomiErrorIs(err, "INVALID_ARGUMENT") || !strings.Contains(err.Error(), "zone-nowhere") {
			t.Fatalf("EnableOnZones on an unknown zone: %v", err)
		}
		sup, err := m.EnableOnZones(ctx, spec)
		if err != nil || sup == "" {
			t.Fatalf("EnableOnZones: %q %v", sup, err)
		}
		env.Settle(0)
		env.Settle(10 * time.Second)
		summary, err := m.GetSupervisorSummary(ctx, sup)
		if err != nil || summary.Name != "zonal-b" || summary.ConfigStatus.String() != "RUNNING" || summary.KubernetesStatus.String() != "READY" {
			t.Fatalf("GetSupervisorSummary of the zonal Supervisor: %+v %v", summary, err)
		}
		topo, err := m.GetSupervisorTopology(ctx, sup)
		if err != nil || len(topo) != 1 || topo[0].Zone != "zone-"+clusterB || len(topo[0].Clusters) != 1 || topo[0].Clusters[0] != clusterB {
			t.Fatalf("GetSupervisorTopology: %+v %v", topo, err)
		}
		// The control plane in the inventory: three SMALL VMs (4 vCPU, 16 GB) in Cluster-B's Namespaces
		// pool, in a VM folder named after the Supervisor.
		if out := env.AdminGovc("object.collect", "-s", "/Datacenter/host/Cluster-B/Resources/Namespaces", "vm"); strings.Count(out, "VirtualMachine:") != 3 {
			t.Fatalf("the Namespaces pool of Cluster-B holds: %s", out)
		}
		if out := env.AdminGovc("vm.info", "/Datacenter/vm/Namespaces/zonal-b/SupervisorControlPlaneVM (1)"); !strings.Contains(out, "4 vCPU") || !strings.Contains(out, "16384MB") {
			t.Fatalf("a SMALL control plane VM:\n%s", out)
		}
		if _, err := m.EnableOnZones(ctx, spec); !govmomiErrorIs(err, "ALREADY_EXISTS") {
			t.Fatalf("EnableOnZones on a zone that has a Supervisor: %v", err)
		}

		// CreateSupportBundle answers where and with which token to download; SupportBundleRequest
		// builds the download, sent with the session as govc namespace.logs.download does.
		bundle, err := m.CreateSupportBundle(ctx, clusterB)
		if err != nil || bundle.Token.Token == "" || !strings.HasSuffix(bundle.URL, "/api/wcpd/support-bundle") {
			t.Fatalf("CreateSupportBundle: %+v %v", bundle, err)
		}
		if expiry, err := time.Parse(time.RFC3339, bundle.Token.Expiry); err != nil || !expiry.After(servertest.Start) {
			t.Fatalf("support bundle token expiry %q: %v", bundle.Token.Expiry, err)
		}
		rc := env.REST(ctx, servertest.Admin, servertest.AdminPassword)
		req, err := m.SupportBundleRequest(ctx, bundle)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("vmware-api-session-id", rc.SessionID())
		file := filepath.Join(t.TempDir(), "bundle.tar")
		if err := rc.DownloadAttachment(ctx, req, file); err != nil {
			t.Fatalf("downloading the support bundle: %v", err)
		}
		entries := readBundle(t, file)
		if s := entries["wcp-support-bundle-"+clusterB+"/supervisor.json"]; !strings.Contains(s, "zonal-b") {
			t.Fatalf("supervisor.json of the bundle: %s (entries %v)", s, tarNames(entries))
		}
		// A made-up token downloads no bundle. (DownloadAttachment writes whatever the answer is, so
		// what lands in the file is the vAPI error.)
		req, _ = m.SupportBundleRequest(ctx, &namespace.SupportBundleLocation{URL: bundle.URL, Token: namespace.SupportBundleToken{Token: "made-up"}})
		req.Header.Set("vmware-api-session-id", rc.SessionID())
		nothing := filepath.Join(t.TempDir(), "nothing.tar")
		if err := rc.DownloadAttachment(ctx, req, nothing); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(nothing); !strings.Contains(string(got), `"error_type":"UNAUTHENTICATED"`) {
			t.Fatalf("downloading with a made-up token: %s", got)
		}
		// NOT_FOUND: the only error the reference declares for it (govmomi shows only the status).
		if _, err := m.CreateSupportBundle(ctx, clusterEdge); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
			t.Fatalf("CreateSupportBundle of a cluster without a Supervisor: %v", err)
		}
		expectClError(t, env.Do("POST", nmPath+"/clusters/"+clusterEdge+"/support-bundle", env.AdminToken(), nil), 404, "NOT_FOUND", clusterEdge)
	})
}
