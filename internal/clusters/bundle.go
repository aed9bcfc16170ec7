package clusters

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Support bundles. support_bundle.create answers a location (URL and token) the client then POSTs
// the token to, as govmomi's SupportBundleRequest and govc namespace.logs.download do. The download
// is a tar of wcpd's own state and history for the Supervisor. Tokens live in memory for
// bundleTokenLifetime; a restart forgets them.

const bundleTokenLifetime = 5 * time.Minute

type bundleToken struct {
	cluster string
	expires time.Time
}

// SupportBundleToken is SupportBundle.Token.
type SupportBundleToken struct {
	Token  string `json:"token"`
	Expiry string `json:"expiry"`
}

// SupportBundleLocation is SupportBundle.Location.
type SupportBundleLocation struct {
	URL   string             `json:"url"`
	Token SupportBundleToken `json:"wcp_support_bundle_token"`
}

// bundleDownloadBinding serves the download at the URL support_bundle.create answers.
var bundleDownloadBinding = vapi.Binding{Service: "com.wcpd.support_bundle", Name: "download", Method: "POST",
	Path: "/wcpd/support-bundle", Body: "token", Status: 200, Privilege: auth.NamespacesManage}

// BundleDownloadRequest is the body of a download: the token of the location.
type BundleDownloadRequest struct {
	Token string `json:"wcp-support-bundle-token"`
}

func (f *Family) supportBundleCreate(c *vapi.Call) (any, error) {
	cluster := c.Path("cluster")
	// NOT_FOUND for a cluster without a Supervisor: the only error the reference declares for it.
	s, err := f.supervisorOn(c.Ctx, cluster, vapi.ErrorNotFound)
	if err != nil {
		return nil, err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(b[:])
	expires := f.now().Add(bundleTokenLifetime)
	f.bundlesMu.Lock()
	for k, t := range f.bundles {
		if !f.now().Before(t.expires) {
			delete(f.bundles, k)
		}
	}
	f.bundles[token] = bundleToken{cluster: s.Cluster, expires: expires}
	f.bundlesMu.Unlock()
	host := "localhost"
	if c.Request != nil && c.Request.Host != "" {
		host = c.Request.Host
	}
	return SupportBundleLocation{URL: "https://" + host + "/api" + bundleDownloadBinding.Path,
		Token: SupportBundleToken{Token: token, Expiry: vapi.NewDateTime(expires).UTC().Format(vapi.DateTimeLayout)}}, nil
}

func (f *Family) supportBundleDownload(c *vapi.Call) (any, error) {
	var req BundleDownloadRequest
	if err := c.Bind("token", &req); err != nil {
		return nil, err
	}
	f.bundlesMu.Lock()
	t, ok := f.bundles[req.Token]
	f.bundlesMu.Unlock()
	if !ok || !f.now().Before(t.expires) {
		return nil, vapi.NewError(vapi.ErrorUnauthenticated, "wcpd.support_bundle.token",
			"The support bundle token is unknown or has expired; create a new support bundle.")
	}
	s, ok := f.lookup(t.cluster)
	if !ok {
		return nil, vapi.NotFound("Supervisor on cluster", t.cluster)
	}
	now := f.now()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(data)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	addJSON := func(name string, v any) error {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		return add(name, append(data, '\n'))
	}
	info, err := f.info(c.Ctx, s)
	if err != nil {
		return nil, err
	}
	var events strings.Builder
	for _, e := range s.Events {
		fmt.Fprintf(&events, "%s %-5s %s\n", e.Time.Format(time.RFC3339), strings.ToUpper(e.Level), e.Message)
	}
	for _, line := range f.logLines(s.Cluster) {
		fmt.Fprintln(&events, line)
	}
	controlPlane, err := f.controlPlaneReport(c, s)
	if err != nil {
		return nil, err
	}
	prefix := fmt.Sprintf("wcp-support-bundle-%s/", s.Cluster)
	readme := fmt.Sprintf("Support bundle of the Supervisor %s (%s) on cluster %s, made by wcpd at %s.\n\n"+
		"supervisor.json     the stored record (no secrets are ever kept)\n"+
		"cluster-info.json   namespace_management.clusters.get\n"+
		"control-plane.json  the Namespaces resource pool and control plane VMs in the inventory\n"+
		"wcpd.log            wcpd's log of this Supervisor: operations, steps, failures\n",
		s.Name, s.ID, s.Cluster, now.Format(time.RFC3339))
	for _, step := range []error{
		add(prefix+"README.txt", []byte(readme)),
		addJSON(prefix+"supervisor.json", s),
		addJSON(prefix+"cluster-info.json", info),
		addJSON(prefix+"control-plane.json", controlPlane),
		add(prefix+"wcpd.log", []byte(events.String())),
		tw.Close(),
	} {
		if step != nil {
			return nil, step
		}
	}
	name := fmt.Sprintf("wcp-support-bundle-%s-%s.tar", s.Cluster, now.Format("2006Jan02-15-04"))
	return vapi.Attachment{Name: name, ContentType: "application/x-tar", Body: buf.Bytes()}, nil
}

// controlPlaneReport describes the Supervisor's objects in the inventory.
func (f *Family) controlPlaneReport(c *vapi.Call, s supervisor) (map[string]any, error) {
	out := map[string]any{"namespaces_pool": s.NamespacesPool, "vms": []controlPlaneVM{}}
	cl, err := f.deps.Inventory.Cluster(c.Ctx, s.Cluster)
	if err != nil {
		return out, nil
	}
	folder, found, err := f.vmFolder(c.Ctx, cl.Datacenter, s.Name, false)
	if err != nil || !found {
		return out, err
	}
	vms, err := f.listControlPlaneVMs(c.Ctx, folder)
	if err != nil {
		return nil, err
	}
	out["vms"] = vms
	return out, nil
}

// The in-memory log ring: controller failures and retries per Supervisor, which are not worth a
// store write each but belong in a support bundle.
const logRingSize = 500

func (f *Family) logLine(cluster, level, msg string) {
	f.bundlesMu.Lock()
	defer f.bundlesMu.Unlock()
	if f.logs == nil {
		f.logs = map[string][]string{}
	}
	lines := append(f.logs[cluster], fmt.Sprintf("%s %-5s %s", f.now().Format(time.RFC3339), strings.ToUpper(level), msg))
	if len(lines) > logRingSize {
		lines = lines[len(lines)-logRingSize:]
	}
	f.logs[cluster] = lines
}

func (f *Family) logLines(cluster string) []string {
	f.bundlesMu.Lock()
	defer f.bundlesMu.Unlock()
	return append([]string(nil), f.logs[cluster]...)
}
