package namespaces

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"

	"github.com/wcpd/wcpd/internal/govctest"
)

// TestGovmomiNamespaceClient drives the family with govmomi's vapi/namespace client, v1 and v2, and
// reads every field the client knows back.
func TestGovmomiNamespaceClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := namespace.NewManager(h.rest(adminUser, adminPassword))
	ctx := h.ctx

	err := m.CreateNamespace(ctx, namespace.NamespacesInstanceCreateSpec{
		Cluster: clusterA, Namespace: "gm",
		VmServiceSpec: namespace.VmServiceSpec{ContentLibraries: []string{libraryVM}, VmClasses: []string{"best-effort-small", "guaranteed-xsmall"}},
		StorageSpecs:  []namespace.StorageSpec{{Policy: policyGold, Limit: 2048}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.settle(taskDuration)
	got, err := m.GetNamespace(ctx, "gm")
	if err != nil {
		t.Fatal(err)
	}
	want := namespace.NamespacesInstanceInfo{ClusterId: clusterA, ConfigStatus: "RUNNING",
		VmServiceSpec: namespace.VmServiceSpec{ContentLibraries: []string{libraryVM}, VmClasses: []string{"best-effort-small", "guaranteed-xsmall"}},
		StorageSpecs:  []namespace.StorageSpec{{Policy: policyGold, Limit: 2048}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetNamespace:\n got %+v\nwant %+v", got, want)
	}

	// govmomi's update always sends both vm_service_spec members and storage_specs: what it sends
	// replaces what was there.
	err = m.UpdateNamespace(ctx, "gm", namespace.NamespacesInstanceUpdateSpec{
		VmServiceSpec: namespace.VmServiceSpec{VmClasses: []string{"best-effort-large"}},
		StorageSpecs:  []namespace.StorageSpec{{Policy: policySilver}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.settle(0)
	got, _ = m.GetNamespace(ctx, "gm")
	if !reflect.DeepEqual(got.VmServiceSpec, namespace.VmServiceSpec{ContentLibraries: []string{}, VmClasses: []string{"best-effort-large"}}) ||
		!reflect.DeepEqual(got.StorageSpecs, []namespace.StorageSpec{{Policy: policySilver}}) || got.ConfigStatus != "RUNNING" {
		t.Fatalf("after UpdateNamespace: %+v", got)
	}

	desc := "made by govmomi v2"
	err = m.CreateNamespaceV2(ctx, namespace.NamespaceInstanceCreateSpecV2{
		Namespace: "gm2", Supervisor: supervisorA, Description: &desc,
		StorageSpecs:     &[]namespace.StorageSpec{{Policy: policyGold, Limit: 512}},
		VmServiceSpec:    &namespace.VmServiceSpec{VmClasses: []string{"best-effort-medium"}, ContentLibraries: []string{libraryVM}},
		ContentLibraries: &[]namespace.ContentLibraryV2{{ContentLibrary: libraryTKR, Writable: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.settle(taskDuration)
	v2, err := m.GetNamespaceV2(ctx, "gm2")
	if err != nil {
		t.Fatal(err)
	}
	wantV2 := namespace.NamespaceInstanceInfoV2{Supervisor: supervisorA, ConfigStatus: "RUNNING", Description: desc,
		StorageSpecs:  []namespace.StorageSpec{{Policy: policyGold, Limit: 512}},
		VmServiceSpec: namespace.VmServiceSpec{VmClasses: []string{"best-effort-medium"}, ContentLibraries: []string{libraryVM}},
		ContentLibraries: []namespace.ContentLibraryV2{{ContentLibrary: libraryTKR, Writable: true},
			{ContentLibrary: libraryVM, Writable: false}},
	}
	if !reflect.DeepEqual(v2, wantV2) {
		t.Fatalf("GetNamespaceV2:\n got %+v\nwant %+v", v2, wantV2)
	}

	list, err := m.ListNamespaces(ctx)
	if err != nil || len(list) != 2 || list[0].Namespace != "gm" || list[0].ClusterId != clusterA || list[1].Namespace != "gm2" ||
		list[1].Description != desc || list[1].ConfigStatus != "RUNNING" {
		t.Fatalf("ListNamespaces: %+v %v", list, err)
	}
	listV2, err := m.ListNamespacesV2(ctx)
	if err != nil || len(listV2) != 2 || listV2[0].Supervisor != supervisorA || listV2[1].Namespace != "gm2" {
		t.Fatalf("ListNamespacesV2: %+v %v", listV2, err)
	}

	if err := m.DeleteNamespace(ctx, "gm"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.GetNamespace(ctx, "gm"); got.ConfigStatus != "REMOVING" {
		t.Fatalf("after DeleteNamespace: %s", got.ConfigStatus)
	}
	h.settle(taskDuration)
	if _, err := m.GetNamespace(ctx, "gm"); !rest.IsStatusError(err, http.StatusNotFound) {
		t.Fatalf("GetNamespace after removal: %v", err)
	}
	err = m.CreateNamespace(ctx, namespace.NamespacesInstanceCreateSpec{Cluster: clusterA, Namespace: "gm2"})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "ALREADY_EXISTS") {
		t.Fatalf("duplicate CreateNamespace: %v", err)
	}
}

// TestGovcNamespaceCommands runs govc's namespace commands in process, and looks at the pool with
// govc's pool commands.
func TestGovcNamespaceCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.govc("namespace.create", "-cluster", "/Datacenter/host/Cluster-A",
		"-library", "wcpd-vm-images", "-library", libraryTKR,
		"-vmclass", "best-effort-small", "-vmclass", "guaranteed-medium",
		"-storage", "wcpd-gold", "govc-ns")
	h.settle(taskDuration)

	if out := h.govc("namespace.ls"); out != "govc-ns\n" {
		t.Fatalf("namespace.ls: %q", out)
	}
	out := squeeze(h.govc("namespace.info", "govc-ns"))
	for _, line := range []string{
		"Cluster: /Datacenter/host/Cluster-A",
		"Status: RUNNING",
		"VM Classes: best-effort-small,guaranteed-medium",
		"Content Library: wcpd-vm-images",
		"Content Library: wcpd-kubernetes-releases",
		"Storage Policy: wcpd-gold",
	} {
		if !strings.Contains(out, line) {
			t.Fatalf("namespace.info lacks %q:\n%s", line, out)
		}
	}
	if out := squeeze(h.govc("pool.info", poolPath+"govc-ns")); !strings.Contains(out, "CPU Limit: -1MHz") ||
		!strings.Contains(out, "CPU Shares: normal") {
		t.Fatalf("pool.info: %s", out)
	}

	h.govc("namespace.update", "-vmclass", "best-effort-xlarge", "-storage", "wcpd-silver", "govc-ns")
	h.settle(0)
	info := h.info("govc-ns")
	if !reflect.DeepEqual(info.VMServiceSpec.VMClasses, []string{"best-effort-xlarge"}) || len(info.VMServiceSpec.ContentLibraries) != 0 ||
		len(info.StorageSpecs) != 1 || info.StorageSpecs[0].Policy != policySilver {
		t.Fatalf("after namespace.update: %+v", asJSON(t, info))
	}
	out = squeeze(h.govc("namespace.info", "govc-ns"))
	if !strings.Contains(out, "VM Classes: best-effort-xlarge") || !strings.Contains(out, "Storage Policy: wcpd-silver") {
		t.Fatalf("namespace.info after update:\n%s", out)
	}

	// A refusal reaches govc's user as the vAPI error.
	_, errOut, code := govcAs(h, "namespace.create", "-cluster", "/Datacenter/host/Cluster-A", "-vmclass", "no-such-class", "bad-ns")
	if code == 0 || !strings.Contains(errOut, "400") {
		t.Fatalf("namespace.create with an unknown class: exit %d %s", code, errOut)
	}

	h.govc("namespace.rm", "govc-ns")
	h.settle(taskDuration)
	if out := h.govc("namespace.ls"); out != "" {
		t.Fatalf("namespace.ls after rm: %q", out)
	}
	if _, ok := h.pools()["govc-ns"]; ok {
		t.Fatal("the pool outlived namespace.rm")
	}
}

// squeeze collapses runs of blanks, so tabulated output compares by content.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func govcAs(h *harness, command string, args ...string) (string, string, int) {
	return govctest.Target{URL: h.sdkURL(adminUser, adminPassword)}.Run(command, args...)
}
