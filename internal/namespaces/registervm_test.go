package namespaces

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	govapi "github.com/vmware/govmomi/vapi"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/vmclasses"
)

// registerTestClasses are the VM classes the register_vm tests know: one usable, one being deleted.
var registerTestClasses = fakeVMClasses{
	"best-effort-small": {ID: "best-effort-small", CPUCount: 2, MemoryMB: 4096, ConfigStatus: "READY"},
	"retiring":          {ID: "retiring", CPUCount: 2, MemoryMB: 4096, ConfigStatus: platform.StatusRemoving},
}

// vmResourceYAML is a VM Service VirtualMachine resource as YAML.
func vmResourceYAML(name, namespace, class string) string {
	return "apiVersion: vmoperator.vmware.com/v1alpha3\nkind: VirtualMachine\nmetadata:\n  name: " + name +
		"\n  namespace: " + namespace + "\nspec:\n  className: " + class + "\n  imageName: vmi-0123456789abcdef0\n  powerState: PoweredOn\n"
}

// packed encodes a resource the way VM Service stores it in extraConfig: gzip, then base64.
func packed(t *testing.T, doc string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// makeVM creates a powered-off VM in the pool at poolPath (govc inventory path) carrying resource in
// its extraConfig (none when ""), and returns its MoRef id.
func (h *harness) makeVM(name, poolPath, resource string) string {
	h.t.Helper()
	h.govc("vm.create", "-on=false", "-c", "1", "-m", "512", "-pool", poolPath, "-ds", "SharedDatastore", "-net", "DPG-Workload", name)
	id := strings.TrimPrefix(strings.TrimSpace(h.govc("ls", "-i", "/Datacenter/vm/"+name)), "VirtualMachine:")
	if resource != "" {
		h.setExtraConfig(id, vmResourceKey, resource)
	}
	return id
}

// setExtraConfig sets (or, with value "", removes) an extraConfig key of a VM through the vSphere
// API. Not through govc: the in-process govc keeps its commands' flag values from one run to the
// next, so "vm.change -e" would also apply every -e given before it, in any test of the process.
func (h *harness) setExtraConfig(id, key, value string) {
	h.t.Helper()
	vm := object.NewVirtualMachine(h.inv.Client(), types.ManagedObjectReference{Type: "VirtualMachine", Value: id})
	task, err := vm.Reconfigure(h.ctx, types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: key, Value: value}}})
	if err == nil {
		err = task.Wait(h.ctx)
	}
	if err != nil {
		h.t.Fatalf("setting %s on %s: %v", key, id, err)
	}
}

// vmClassMark is the VM class the VM is marked with (vmclasses.ExtraConfigKey), "" when none.
func (h *harness) vmClassMark(id string) string {
	h.t.Helper()
	vm, err := readVM(h.ctx, h.inv.Client(), id)
	if err != nil || vm == nil {
		h.t.Fatalf("reading VM %s: %v", id, err)
	}
	return vm.extraConfig[vmclasses.ExtraConfigKey]
}

// awaitTask waits for the task a register_vm answer names and returns its outcome.
func (h *harness) awaitTask(id string) (*types.TaskInfo, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	return object.NewTask(h.inv.Client(), govapi.Task(id)).WaitForResult(ctx)
}

// register asks register_vm for vm in namespace ns and returns the task id, failing unless 200.
func (h *harness) register(ns, vm string) string {
	h.t.Helper()
	var id string
	if err := json.Unmarshal(h.must(200, "POST", instancesPath+"/"+ns+"/registervm", h.admin, map[string]any{"vm": vm}).Body, &id); err != nil || !strings.HasPrefix(id, "task-") {
		h.t.Fatalf("register_vm answered %q (%v), want a task id", id, err)
	}
	return id
}

// expectRefusal sends register_vm and checks the status, error type and what the message names.
func (h *harness) expectRefusal(ns string, body any, token string, status int, errType string, mentions ...string) {
	h.t.Helper()
	r := h.do("POST", instancesPath+"/"+ns+"/registervm", token, body)
	if r.Status != status || r.errorType() != errType {
		h.t.Fatalf("register_vm %v in %s: %d %s, want %d %s", body, ns, r.Status, r.Body, status, errType)
	}
	for _, m := range mentions {
		if !strings.Contains(string(r.Body), m) {
			h.t.Errorf("register_vm %v in %s: %s does not mention %q", body, ns, r.Body, m)
		}
	}
}

func TestRegisterVMRefusesWhatItCannotRegister(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withVMClasses(registerTestClasses))
	h.create("apps", nil)
	h.create("other", nil)
	const pools = "/Datacenter/host/Cluster-A/Resources/Namespaces/"
	good := vmResourceYAML("web", "apps", "best-effort-small")
	vms := map[string]string{
		"bare":      h.makeVM("bare", pools+"apps", ""),
		"elsewhere": h.makeVM("elsewhere", pools+"other", good),
		"outside":   h.makeVM("outside", "/Datacenter/host/Cluster-A/Resources", good),
		"foreign":   h.makeVM("foreign", pools+"apps", vmResourceYAML("foreign", "other", "best-effort-small")),
		"noclass":   h.makeVM("noclass", pools+"apps", vmResourceYAML("noclass", "apps", "no-such-class")),
		"retiring":  h.makeVM("retiring", pools+"apps", vmResourceYAML("retiring", "apps", "retiring")),
		"wrongkind": h.makeVM("wrongkind", pools+"apps", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: apps\n"),
		"garbage":   h.makeVM("garbage", pools+"apps", "{not yaml: ["),
		"classless": h.makeVM("classless", pools+"apps", `{"apiVersion": "vmoperator.vmware.com/v1alpha2", "kind": "VirtualMachine", "metadata": {"name": "c", "namespace": "apps"}}`),
		"badgzip":   h.makeVM("badgzip", pools+"apps", base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0x00, 0x01})),
		"template":  h.makeVM("template", pools+"apps", good),
	}
	h.govc("vm.markastemplate", "/Datacenter/vm/template")
	h.addUser("reader", "Reader-pw-1", auth.RoleReadOnly)
	reader := h.login("reader@vsphere.local", "Reader-pw-1")

	for _, c := range []struct {
		what     string
		ns       string
		body     any
		token    string
		status   int
		errType  string
		mentions []string
	}{
		{"no vm", "apps", map[string]any{}, h.admin, 400, "INVALID_ARGUMENT", []string{"spec.vm"}},
		{"empty vm", "apps", map[string]any{"vm": ""}, h.admin, 400, "INVALID_ARGUMENT", []string{"spec.vm"}},
		{"unknown field", "apps", map[string]any{"vm": vms["bare"], "power_on": true}, h.admin, 400, "INVALID_ARGUMENT", []string{"power_on"}},
		{"no such VM", "apps", map[string]any{"vm": "vm-99999"}, h.admin, 400, "INVALID_ARGUMENT", []string{"spec.vm", "vm-99999", "no virtual machine"}},
		{"a host, not a VM", "apps", map[string]any{"vm": "host-18"}, h.admin, 400, "INVALID_ARGUMENT", []string{"spec.vm", "host-18"}},
		{"no such namespace", "nowhere", map[string]any{"vm": vms["bare"]}, h.admin, 404, "NOT_FOUND", []string{"nowhere"}},
		{"without Namespaces.Manage", "apps", map[string]any{"vm": vms["bare"]}, reader, 403, "UNAUTHORIZED", nil},
		{"no resource", "apps", map[string]any{"vm": vms["bare"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["bare"], vmResourceKey}},
		{"in another namespace's pool", "apps", map[string]any{"vm": vms["elsewhere"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["elsewhere"], "resource pool"}},
		{"outside every namespace", "apps", map[string]any{"vm": vms["outside"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["outside"], "resource pool"}},
		{"resource of another namespace", "apps", map[string]any{"vm": vms["foreign"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["foreign"], "metadata.namespace", "other"}},
		{"unknown class", "apps", map[string]any{"vm": vms["noclass"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["noclass"], "no-such-class"}},
		{"class being deleted", "apps", map[string]any{"vm": vms["retiring"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["retiring"], "retiring"}},
		{"not a VirtualMachine", "apps", map[string]any{"vm": vms["wrongkind"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["wrongkind"], "ConfigMap"}},
		{"not YAML", "apps", map[string]any{"vm": vms["garbage"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["garbage"], "YAML"}},
		{"no class named", "apps", map[string]any{"vm": vms["classless"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["classless"], "spec.className"}},
		{"broken gzip", "apps", map[string]any{"vm": vms["badgzip"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["badgzip"], "gzip"}},
		{"a template", "apps", map[string]any{"vm": vms["template"]}, h.admin, 400, "INVALID_ARGUMENT", []string{vms["template"], "template"}},
	} {
		t.Log(c.what)
		h.expectRefusal(c.ns, c.body, c.token, c.status, c.errType, c.mentions...)
	}

	// A namespace that is not RUNNING registers nothing.
	h.must(204, "POST", instancesPath, h.admin, map[string]any{"cluster": clusterA, "namespace": "young"})
	h.expectRefusal("young", map[string]any{"vm": vms["bare"]}, h.admin, 400, "NOT_ALLOWED_IN_CURRENT_STATE", "young", StatusConfiguring)

	// Nothing was recorded, no task was started on any VM and no VM was marked.
	h.settle(0)
	if n := h.fam.registrations.records.Len(); n != 0 {
		t.Fatalf("%d registrations recorded after refusals", n)
	}
	for name, id := range vms {
		if h.vmClassMark(id) != "" {
			t.Fatalf("VM %s (%s) was marked after a refusal", name, id)
		}
	}
}

func TestRegisterVMTakesAVMBackUnderVMService(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withVMClasses(registerTestClasses))
	h.create("apps", nil)
	pool := "/Datacenter/host/Cluster-A/Resources/Namespaces/apps"
	// VM Service's own encoding (gzip + base64) and plain YAML are both read.
	web := h.makeVM("web", pool, packed(t, vmResourceYAML("web", "apps", "best-effort-small")))
	db := h.makeVM("db", pool, vmResourceYAML("db", "apps", "best-effort-small"))

	// The answer is a running or finished vSphere Task on the VM; when it succeeds the VM is marked as
	// a VM Service VM of its class.
	id := h.register("apps", web)
	info, err := h.awaitTask(id)
	if err != nil || info.State != types.TaskInfoStateSuccess || info.Entity == nil || info.Entity.Value != web || info.DescriptionId != registerVMTaskType {
		t.Fatalf("task %s: %+v %v", id, info, err)
	}
	if got := h.vmClassMark(web); got != "best-effort-small" {
		t.Fatalf("VM %s is marked %q after registering, want best-effort-small", web, got)
	}
	rec, ok := h.fam.registrations.records.Get(web)
	if !ok || rec.Value.State != registrationDone || rec.Value.Resource != "web" || rec.Value.Namespace != "apps" || rec.Value.RequestedBy != adminUser {
		t.Fatalf("registration of %s: %v %+v", web, ok, rec.Value)
	}
	h.expectRefusal("apps", map[string]any{"vm": web}, h.admin, 400, "ALREADY_IN_DESIRED_STATE", web, "apps")

	// govc waits for the task and fails with the error when the request is refused.
	h.govc("namespace.registervm", "-vm", "/Datacenter/vm/db", "apps")
	if got := h.vmClassMark(db); got != "best-effort-small" {
		t.Fatalf("VM %s is marked %q after govc registered it, want best-effort-small", db, got)
	}

	// The legacy protocol wraps the task id.
	copyVM := h.makeVM("copy", pool, vmResourceYAML("copy", "apps", "best-effort-small"))
	r := h.must(200, "POST", "/rest/vcenter/namespaces/instances/apps/registervm", h.admin, map[string]any{"spec": map[string]any{"vm": copyVM}})
	var wrapped struct{ Value string }
	if err := json.Unmarshal(r.Body, &wrapped); err != nil || !strings.HasPrefix(wrapped.Value, "task-") {
		t.Fatalf("/rest register_vm: %s", r.Body)
	}
	if _, err := h.awaitTask(wrapped.Value); err != nil {
		t.Fatalf("/rest register_vm task: %v", err)
	}

	// Two requests for one VM at once: one registers it, the other is told it is done or under way,
	// or to retry; never two registrations.
	twin := h.makeVM("twin", pool, vmResourceYAML("twin", "apps", "best-effort-small"))
	answers := make(chan reply, 2)
	for range 2 {
		go func() { answers <- h.do("POST", instancesPath+"/apps/registervm", h.admin, map[string]any{"vm": twin}) }()
	}
	accepted := 0
	for range 2 {
		r := <-answers
		switch {
		case r.Status == 200:
			accepted++
			var id string
			if err := json.Unmarshal(r.Body, &id); err != nil {
				t.Fatal(err)
			}
			if _, err := h.awaitTask(id); err != nil {
				t.Fatalf("task of the accepted concurrent request: %v", err)
			}
		case r.Status == 400 && r.errorType() == "ALREADY_IN_DESIRED_STATE", r.Status == 409 && r.errorType() == "CONCURRENT_CHANGE":
		default:
			t.Fatalf("concurrent register_vm: %d %s", r.Status, r.Body)
		}
	}
	if accepted != 1 || h.vmClassMark(twin) != "best-effort-small" {
		t.Fatalf("%d concurrent requests accepted, VM marked %q; want 1 and best-effort-small", accepted, h.vmClassMark(twin))
	}

	// A VM that lost its class mark (restored from an older backup) is taken back again: a new task
	// puts the mark back.
	h.setExtraConfig(web, vmclasses.ExtraConfigKey, "")
	if _, err := h.awaitTask(h.register("apps", web)); err != nil || h.vmClassMark(web) != "best-effort-small" {
		t.Fatalf("registering %s again after it lost its mark: %v, marked %q", web, err, h.vmClassMark(web))
	}

	// A clone carries its original's resource: the namespace already has a VirtualMachine of that
	// name, so the clone is refused and stays unmarked.
	clone := h.makeVM("web-clone", pool, vmResourceYAML("web", "apps", "best-effort-small"))
	h.expectRefusal("apps", map[string]any{"vm": clone}, h.admin, 400, "ALREADY_EXISTS", clone, `\"web\"`, web)
	if got := h.vmClassMark(clone); got != "" {
		t.Fatalf("the refused clone is marked %q", got)
	}
	// Once the original has left the inventory, its name is free again.
	h.govc("vm.destroy", "/Datacenter/vm/web")
	if _, err := h.awaitTask(h.register("apps", clone)); err != nil || h.vmClassMark(clone) != "best-effort-small" {
		t.Fatalf("registering the clone after the original went: %v", err)
	}
	if _, ok := h.fam.registrations.records.Get(web); ok {
		t.Fatalf("the registration of the destroyed VM %s is still kept", web)
	}
}

func TestRegisterVMTaskFailsWhenTheVMGoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withVMClasses(registerTestClasses))
	h.create("apps", nil)
	vm := h.makeVM("short-lived", "/Datacenter/host/Cluster-A/Resources/Namespaces/apps", vmResourceYAML("short-lived", "apps", "best-effort-small"))
	nsRec, _ := h.fam.records.Get("apps")

	// The state a request leaves behind (a running task and the recorded registration), with the VM
	// destroyed before the work is done.
	ref, err := h.fam.startRegisterTask(h.ctx, types.ManagedObjectReference{Type: "VirtualMachine", Value: vm}, adminUser)
	if err != nil {
		t.Fatal(err)
	}
	h.govc("vm.destroy", "/Datacenter/vm/short-lived")
	g := registration{VM: vm, InstanceUUID: "gone", Namespace: "apps", NamespaceCreated: nsRec.Value.CreatedAt,
		Resource: "short-lived", Class: "best-effort-small", State: registrationRunning, Task: ref.Value}
	if _, err := h.fam.registrations.records.Create(h.ctx, vm, g); err != nil {
		t.Fatal(err)
	}
	h.fam.registrations.ctl.Enqueue(vm)

	info, err := h.awaitTask(ref.Value + taskIDSuffix)
	if err == nil || info == nil || info.State != types.TaskInfoStateError || !strings.Contains(err.Error(), "no longer in the inventory") {
		t.Fatalf("task of a VM that went: %+v %v", info, err)
	}
	h.settle(0)
	if _, ok := h.fam.registrations.records.Get(vm); ok {
		t.Fatal("a failed registration is still recorded")
	}

	// A VM that has the recorded MoRef id but is not the VM that was asked for (the embedded
	// inventory hands out the same ids again after a restart) is not touched.
	other := h.makeVM("same-id-other-vm", "/Datacenter/host/Cluster-A/Resources/Namespaces/apps", vmResourceYAML("other", "apps", "best-effort-small"))
	ref, err = h.fam.startRegisterTask(h.ctx, types.ManagedObjectReference{Type: "VirtualMachine", Value: other}, adminUser)
	if err != nil {
		t.Fatal(err)
	}
	g.VM, g.Resource, g.Task = other, "other", ref.Value
	if _, err := h.fam.registrations.records.Create(h.ctx, other, g); err != nil {
		t.Fatal(err)
	}
	h.fam.registrations.ctl.Enqueue(other)
	if info, err := h.awaitTask(ref.Value + taskIDSuffix); err == nil || info.State != types.TaskInfoStateError {
		t.Fatalf("task of a registration whose VM was replaced: %+v %v", info, err)
	}
	if got := h.vmClassMark(other); got != "" {
		t.Fatalf("the VM that only shares the MoRef id was marked %q", got)
	}
}

func TestRegistrationsAcrossARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newHarness(t, withDataDir(dir), withVMClasses(registerTestClasses))
	h.create("apps", nil)
	h.create("going", nil)
	kept := h.makeVM("kept", "/Datacenter/host/Cluster-A/Resources/Namespaces/apps", vmResourceYAML("kept", "apps", "best-effort-small"))
	if _, err := h.awaitTask(h.register("apps", kept)); err != nil {
		t.Fatal(err)
	}
	leaving := h.makeVM("leaving", "/Datacenter/host/Cluster-A/Resources/Namespaces/going", vmResourceYAML("leaving", "going", "best-effort-small"))
	if _, err := h.awaitTask(h.register("going", leaving)); err != nil {
		t.Fatal(err)
	}
	h.must(204, "DELETE", instancesPath+"/going", h.admin, nil)
	h.settle(taskDuration)
	// wcpd stops after recording a registration and before doing it.
	h.settle(0)
	h.stop()
	nsRec, _ := h.fam.records.Get("apps")
	unfinished := registration{VM: "vm-424242", InstanceUUID: "4242", Namespace: "apps", NamespaceCreated: nsRec.Value.CreatedAt,
		Resource: "unfinished", Class: "best-effort-small", State: registrationRunning, Task: "task-424242"}
	if _, err := h.fam.registrations.records.Create(h.ctx, unfinished.VM, unfinished); err != nil {
		t.Fatal(err)
	}
	h.close()

	h2 := newHarness(t, withDataDir(dir), withVMClasses(registerTestClasses))
	h2.settle(time.Minute)
	// The registration of the namespace that stayed is kept; the one of the removed namespace is
	// dropped with it; the unfinished one resumes, finds its VM gone (the inventory is rebuilt at
	// every start) and is dropped, leaving the VM free to be registered again.
	if rec, ok := h2.fam.registrations.records.Get(kept); !ok || rec.Value.State != registrationDone || rec.Value.Resource != "kept" {
		t.Fatalf("registration of %s after the restart: %v %+v", kept, ok, rec.Value)
	}
	if _, ok := h2.fam.registrations.records.Get(leaving); ok {
		t.Fatalf("registration of %s in the removed namespace survived the restart", leaving)
	}
	if _, ok := h2.fam.registrations.records.Get(unfinished.VM); ok {
		t.Fatal("the unfinished registration of a VM that is gone survived the restart")
	}
}
