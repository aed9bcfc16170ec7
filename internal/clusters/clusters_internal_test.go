package clusters

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/vapi"
)

func TestCIDRChecks(t *testing.T) {
	for _, tc := range []struct {
		cidr Ipv4Cidr
		want string // "" when valid, else a fragment of the error
	}{
		{Ipv4Cidr{"10.96.0.0", 23}, ""},
		{Ipv4Cidr{"10.96.1.0", 23}, "did you mean 10.96.0.0/23"},
		{Ipv4Cidr{"10.96.0.0", 31}, "between 1 and 30"},
		{Ipv4Cidr{"10.96.0", 24}, "IPv4 address"},
		{Ipv4Cidr{"fd00::", 64}, "IPv4 address"},
	} {
		var errs vapi.FieldErrors
		sp, ok := checkCIDR(tc.cidr, "spec.service_cidr", &errs)
		got := ""
		if err := errs.Err(); err != nil {
			got = err.Error()
		}
		if (tc.want == "") != ok || !strings.Contains(got, tc.want) {
			t.Errorf("checkCIDR(%v) = %v %q, want %q", tc.cidr, ok, got, tc.want)
		}
		if ok && (ipString(sp.first) != tc.cidr.Address || sp.last-sp.first != 1<<(32-tc.cidr.Prefix)-1) {
			t.Errorf("span of %v: %s-%s", tc.cidr, ipString(sp.first), ipString(sp.last))
		}
	}
}

func TestSubnetAndOverlapChecks(t *testing.T) {
	var errs vapi.FieldErrors
	r, _ := checkRange("10.0.0.10", 5, "r.start", "r.count", &errs)
	checkSubnet(r, "10.0.0.1", "255.255.255.0", "r.gateway", "r.mask", &errs)
	if errs.Len() != 0 {
		t.Fatalf("a good range: %v", errs.Err())
	}
	for _, tc := range []struct{ gw, mask, want string }{
		{"10.0.1.1", "255.255.255.0", "are not in one 255.255.255.0 subnet"},
		{"10.0.0.12", "255.255.255.0", "lies inside the address range"},
		{"10.0.0.1", "255.0.255.0", "subnet mask"},
		{"10.0.0.1", "255.255.255.248", "are not in one"},
	} {
		var errs vapi.FieldErrors
		checkSubnet(r, tc.gw, tc.mask, "r.gateway", "r.mask", &errs)
		if err := errs.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("gateway %s mask %s: %v, want %q", tc.gw, tc.mask, err, tc.want)
		}
	}
	if _, ok := checkRange("255.255.255.250", 10, "a", "b", &errs); ok {
		t.Error("a range past 255.255.255.255 was accepted")
	}
	var overlap vapi.FieldErrors
	a, _ := checkCIDR(Ipv4Cidr{"10.96.0.0", 23}, "spec.service_cidr", &overlap)
	b, _ := checkRange("10.96.1.200", 10, "spec.lb.start", "spec.lb.count", &overlap)
	c, _ := checkRange("10.97.0.0", 10, "spec.other", "", &overlap)
	checkOverlaps([]span{a, b, c}, &overlap)
	if err := overlap.Err(); err == nil || overlap.Len() != 1 || !strings.Contains(err.Error(), "overlaps spec.service_cidr") {
		t.Fatalf("overlaps: %v", err)
	}
}

func TestAddressConversions(t *testing.T) {
	if p, ok := maskPrefix("255.255.252.0"); !ok || p != 22 {
		t.Errorf("maskPrefix(255.255.252.0) = %d %v", p, ok)
	}
	if gw, p, ok := gatewayWithPrefix("10.0.0.1/24"); !ok || gw != "10.0.0.1" || p != 24 {
		t.Errorf("gatewayWithPrefix = %s %d %v", gw, p, ok)
	}
	if _, _, ok := gatewayWithPrefix("10.0.0.1"); ok {
		t.Error("a gateway without a prefix length was accepted")
	}
	if c, ok := rangeToCIDR(IPRange{"10.244.0.0", 4096}); !ok || c.Prefix != 20 {
		t.Errorf("rangeToCIDR(10.244.0.0+4096) = %v %v", c, ok)
	}
	for _, r := range []IPRange{{"10.244.0.1", 4096}, {"10.244.0.0", 100}} {
		if _, ok := rangeToCIDR(r); ok {
			t.Errorf("rangeToCIDR(%v) accepted a range that is not a CIDR block", r)
		}
	}
	if got := nthAddress("10.0.0.254", 3); got != "10.0.1.1" {
		t.Errorf("nthAddress carries into the next octet: %s", got)
	}
}

func TestPathsNameTheCallersFields(t *testing.T) {
	p := paths{root: "spec", alias: map[string]string{
		"master_management_network.network":                     "spec.control_plane.network.backing.network",
		"load_balancer_config_spec":                             "spec.workloads.edge",
		"load_balancer_config_spec.ha_proxy_config_create_spec": "spec.workloads.edge.haproxy",
	}}
	for in, want := range map[string]string{
		"service_cidr":                      "spec.service_cidr",
		"master_management_network.network": "spec.control_plane.network.backing.network",
		"load_balancer_config_spec.ha_proxy_config_create_spec.servers[0].port": "spec.workloads.edge.haproxy.servers[0].port",
		"load_balancer_config_spec.id":                                          "spec.workloads.edge.id",
	} {
		if got := p.at(in); got != want {
			t.Errorf("at(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestVersionsAndPrechecksOrder(t *testing.T) {
	if !newer(releases[3].Version, defaultVersion) || newer(defaultVersion, releases[3].Version) {
		t.Fatal("newer does not order the catalogue")
	}
	for i := 1; i < len(releases); i++ {
		if !newer(releases[i].Version, releases[i-1].Version) {
			t.Fatalf("catalogue out of order at %s", releases[i].Version)
		}
	}
	if got := availableVersions(releases[len(releases)-1].Version); len(got) != 0 {
		t.Fatalf("versions newer than the newest: %v", got)
	}
	if mi, pa, ok := kubeVersion("v1.28.8+vmware.1-fips.1-vsc0.1.10-23901322"); !ok || mi != 28 || pa != 8 {
		t.Fatalf("kubeVersion = %d %d %v", mi, pa, ok)
	}
}

func TestRebaseNeverGoesBack(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	// A restarted fake clock stands before the phase started: two steps done stay done, and the
	// next one still takes a whole step.
	now := start.Add(-5 * time.Second)
	got := rebase(start, 2, time.Second, now)
	if !got.Equal(now.Add(-2 * time.Second)) {
		t.Fatalf("rebase = %v", got)
	}
	if got := rebase(start, 1, time.Second, start.Add(time.Minute)); !got.Equal(start) {
		t.Fatalf("rebase moved a consistent start: %v", got)
	}
}

func TestEdgeProvider(t *testing.T) {
	ha := &EdgeHAProxyConfig{}
	nsx := &EdgeNSXConfig{}
	p := EdgeNSX
	for _, tc := range []struct {
		edge Edge
		want EdgeProvider
		bad  bool
	}{
		{Edge{HAProxy: ha}, EdgeHAProxy, false},
		{Edge{Provider: &p, NSX: nsx}, EdgeNSX, false},
		{Edge{HAProxy: ha, NSX: nsx}, "", true},
		{Edge{Provider: &p, HAProxy: ha}, EdgeNSX, true},
		{Edge{}, "", true},
	} {
		got, problem := edgeProvider(tc.edge)
		if got != tc.want || (problem != "") != tc.bad {
			t.Errorf("edgeProvider(%+v) = %q %q", tc.edge, got, problem)
		}
	}
}

func TestDeriveName(t *testing.T) {
	for in, want := range map[string]string{"Cluster-A": "cluster-a", "Prod Cluster_1": "prod-cluster-1", "--": "supervisor"} {
		if got := deriveName(in); got != want || !supervisorNamePattern.MatchString(got) {
			t.Errorf("deriveName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLostRacesAreTriedAgain: an operation whose write lost a race runs again from its first read
// and its caller sees the outcome of the attempt that settled; one that keeps losing is answered
// with CONCURRENT_CHANGE, and other errors are answered at once.
func TestLostRacesAreTriedAgain(t *testing.T) {
	attempts := 0
	err := untilSettled(func() error {
		if attempts++; attempts < 3 {
			return concurrentChange("domain-c9")
		}
		return nil
	})
	if err != nil || attempts != 3 {
		t.Errorf("two lost races then a write: %v after %d attempts, want success after 3", err, attempts)
	}

	attempts = 0
	err = untilSettled(func() error { attempts++; return concurrentChange("domain-c9") })
	var ve *vapi.Error
	if !errors.As(err, &ve) || ve.Type != vapi.ErrorConcurrentChange || attempts != settleAttempts {
		t.Errorf("a record that keeps changing: %v after %d attempts, want CONCURRENT_CHANGE after %d", err, attempts, settleAttempts)
	}

	attempts = 0
	refusal := vapi.NotFound("Supervisor on cluster", "domain-c9")
	if err := untilSettled(func() error { attempts++; return refusal }); err != refusal || attempts != 1 {
		t.Errorf("a refusal: %v after %d attempts, want it after 1", err, attempts)
	}
}
