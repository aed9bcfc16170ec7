package kube

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	vmopv1cloudinit "github.com/vmware-tanzu/vm-operator/api/v1alpha5/cloudinit"
	vmopv1common "github.com/vmware-tanzu/vm-operator/api/v1alpha5/common"
	vmopv1sysprep "github.com/vmware-tanzu/vm-operator/api/v1alpha5/sysprep"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/vmop"
)

// TestVirtualMachineDriftPowerModesAndRoles: a VM changed or removed through /sdk is corrected or
// made again, with a Warning event saying so; power off follows spec.powerOffMode (Soft asks the
// guest, Hard does not); spec.nextRestartTime "now" restarts the VM once and is recorded in
// status.lastRestartTime, and no other value may be set; a VIEW user reads VirtualMachines and
// cannot create them; a user with no role sees none. The image reports its descriptor's guest OS,
// hardware version, firmware and disk, and the storage limit counts the VMs' image disks.
func TestVirtualMachineDriftPowerModesAndRoles(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	env.AddUser("viewer", devopsPW, "")
	env.AddUser("stranger", devopsPW, "")
	ns := map[string]any{"cluster": clusterA, "namespace": "drift",
		"access_list":     []any{map[string]any{"subject_type": "USER", "subject": "viewer", "domain": "vsphere.local", "role": "VIEW"}},
		"vm_service_spec": map[string]any{"vm_classes": []any{"best-effort-small"}, "content_libraries": []any{libraryVM}}}
	if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, ns); r.Status != 204 {
		t.Fatalf("namespace: %d %s", r.Status, r.Body)
	}
	env.Settle(10 * time.Second)
	k8s := adminClients(t, env)
	ctx := context.Background()
	photon := vmop.ImageName(inventory.ItemID(libraryVM, "photon-5.0-x86_64"))
	vm := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "drifter", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon}}
	eventually(t, "the VirtualMachine is admitted", func(ctx context.Context) (bool, error) {
		err := k8s.ctrl.Create(ctx, vm)
		return err == nil || apierrors.IsAlreadyExists(err), err
	})
	eventually(t, "the VM runs", func(ctx context.Context) (bool, error) {
		err := k8s.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm)
		return err == nil && vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn, err
	})
	// The image says what its OVF descriptor says.
	var img vmopv1.VirtualMachineImage
	if err := k8s.ctrl.Get(ctx, client.ObjectKey{Namespace: "drift", Name: photon}, &img); err != nil {
		t.Fatal(err)
	}
	if st := img.Status; st.OSInfo.Type != "vmwarePhoton64Guest" || st.OSInfo.Version != "5.0" || st.Firmware != "efi" ||
		st.HardwareVersion == nil || *st.HardwareVersion != 19 || len(st.Disks) != 1 || st.Disks[0].Requested.String() != "20Gi" {
		t.Errorf("the photon image's status: %+v", st)
	}
	vc := adminVim25(t, ctx, env)
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vm.Status.UniqueID}
	vmObj := object.NewVirtualMachine(vc, ref)

	// Changed behind VM Service's back: more CPUs, then powered off.
	task, err := vmObj.Reconfigure(ctx, types.VirtualMachineConfigSpec{NumCPUs: 8})
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the VM has its class's 2 CPUs again", func(ctx context.Context) (bool, error) {
		var m mo.VirtualMachine
		err := property.DefaultCollector(vc).RetrieveOne(ctx, ref, []string{"config.hardware.numCPU"}, &m)
		return err == nil && m.Config.Hardware.NumCPU == 2, err
	})
	wantEvent(t, k8s, vm, "HardwareCorrected", "had 8 CPUs")
	eventually(t, "the VM can be powered off behind VM Service's back", func(ctx context.Context) (bool, error) {
		task, err := vmObj.PowerOff(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		return err == nil, nil
	})
	eventually(t, "the VM runs again", func(ctx context.Context) (bool, error) {
		state, err := vmObj.PowerState(ctx)
		return state == types.VirtualMachinePowerStatePoweredOn, err
	})

	// Removed behind VM Service's back: made again. VM Service may power the VM on again between
	// the power-off and the removal (which a powered-on VM refuses), so the two are tried together
	// until the removal goes through.
	eventually(t, "the VM can be removed behind VM Service's back", func(ctx context.Context) (bool, error) {
		if task, err := vmObj.PowerOff(ctx); err == nil {
			_ = task.Wait(ctx)
		}
		task, err := vmObj.Destroy(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		return err == nil, err
	})
	eventually(t, "the VirtualMachine has a new VM", func(ctx context.Context) (bool, error) {
		err := k8s.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm)
		return err == nil && vm.Status.UniqueID != "" && vm.Status.UniqueID != ref.Value &&
			vm.Status.PowerState == vmopv1.VirtualMachinePowerStateOn, err
	})
	wantEvent(t, k8s, vm, "VMRecreated", ref.Value+" was removed outside VM Service")
	ref = types.ManagedObjectReference{Type: "VirtualMachine", Value: vm.Status.UniqueID}
	vmObj = object.NewVirtualMachine(vc, ref)

	// A restart: "now" becomes the time, the VM is reset once (the guest has no VMware Tools, so
	// TrySoft resets it), and the time is recorded.
	since := serverTime(t, vc)
	updateVM(t, k8s, vm, func(vm *vmopv1.VirtualMachine) { vm.Spec.NextRestartTime = "Now" })
	if _, err := time.Parse(time.RFC3339Nano, vm.Spec.NextRestartTime); err != nil {
		t.Fatalf("spec.nextRestartTime after setting it to now: %q", vm.Spec.NextRestartTime)
	}
	eventually(t, "the restart is recorded", func(ctx context.Context) (bool, error) {
		err := k8s.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm)
		return err == nil && vm.Status.LastRestartTime != nil, err
	})
	if n := vmEvents(t, vc, ref, "VmPoweredOnEvent", since); n != 1 {
		t.Errorf("the VM was powered on %d times by the restart, want once (a reset)", n)
	}
	future := vm.DeepCopy()
	future.Spec.NextRestartTime = "2030-01-01T00:00:00Z"
	if err := k8s.ctrl.Update(ctx, future); err == nil || !strings.Contains(err.Error(), `spec.nextRestartTime: "2030-01-01T00:00:00Z": the only value that may be set is "now"`) {
		t.Errorf("a restart in the future: %v", err)
	}

	// Powered off in Soft mode the guest is asked to shut down; in Hard mode it is not.
	since = serverTime(t, vc)
	updateVM(t, k8s, vm, func(vm *vmopv1.VirtualMachine) {
		vm.Spec.PowerState, vm.Spec.PowerOffMode = vmopv1.VirtualMachinePowerStateOff, vmopv1.VirtualMachinePowerOpModeSoft
	})
	eventually(t, "the VM is off", func(ctx context.Context) (bool, error) {
		state, err := vmObj.PowerState(ctx)
		return state == types.VirtualMachinePowerStatePoweredOff, err
	})
	if n := vmEvents(t, vc, ref, "VmGuestShutdownEvent", since); n != 1 {
		t.Errorf("Soft power off: %d guest shutdowns, want 1", n)
	}
	updateVM(t, k8s, vm, func(vm *vmopv1.VirtualMachine) { vm.Spec.PowerState = vmopv1.VirtualMachinePowerStateOn })
	eventually(t, "the VM is on", func(ctx context.Context) (bool, error) {
		state, err := vmObj.PowerState(ctx)
		return state == types.VirtualMachinePowerStatePoweredOn, err
	})
	since = serverTime(t, vc)
	updateVM(t, k8s, vm, func(vm *vmopv1.VirtualMachine) {
		vm.Spec.PowerState, vm.Spec.PowerOffMode = vmopv1.VirtualMachinePowerStateOff, vmopv1.VirtualMachinePowerOpModeHard
	})
	eventually(t, "the VM is off again", func(ctx context.Context) (bool, error) {
		state, err := vmObj.PowerState(ctx)
		return state == types.VirtualMachinePowerStatePoweredOff, err
	})
	if shutdowns, offs := vmEvents(t, vc, ref, "VmGuestShutdownEvent", since), vmEvents(t, vc, ref, "VmPoweredOffEvent", since); shutdowns != 0 || offs == 0 {
		t.Errorf("Hard power off: %d guest shutdowns and %d power offs, want none and a power off", shutdowns, offs)
	}

	// The storage limit of the namespace's policy counts the disks of the VMs' images: the photon
	// image's 20 GiB fits once in 30 GiB, not twice.
	if r := env.Do("PATCH", "/api/vcenter/namespaces/instances/drift", admin, map[string]any{
		"storage_specs": []any{map[string]any{"policy": policyGold, "limit": 30720}}}); r.Status != 204 {
		t.Fatalf("storage limit: %d %s", r.Status, r.Body)
	}
	stored := func(name string) *vmopv1.VirtualMachine {
		return &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "drift"},
			Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon, StorageClass: "wcpd-gold",
				PowerState: vmopv1.VirtualMachinePowerStateOff}}
	}
	eventually(t, "a VM of wcpd-gold within the limit is admitted", func(ctx context.Context) (bool, error) {
		err := k8s.ctrl.Create(ctx, stored("stored-1"))
		return err == nil || apierrors.IsAlreadyExists(err), nil
	})
	if err := k8s.ctrl.Create(ctx, stored("stored-2")); err == nil ||
		!strings.Contains(err.Error(), "would need 40960 MiB of storage class wcpd-gold (their images' disks), over the namespace's limit of 30720 MiB") {
		t.Errorf("a second VM over the storage limit: %v", err)
	}

	// vApp properties from spec.bootstrap.vAppConfig: a value, and a Secret's key.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vapp-secret", Namespace: "drift"},
		StringData: map[string]string{"password": "s3cret"}}
	if err := k8s.ctrl.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hostname := "vapp-one"
	vapp := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "vapp", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon, PowerState: vmopv1.VirtualMachinePowerStateOff,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{VAppConfig: &vmopv1.VirtualMachineBootstrapVAppConfigSpec{
				Properties: []vmopv1common.KeyValueOrSecretKeySelectorPair{
					{Key: "hostname", Value: vmopv1common.ValueOrSecretKeySelector{Value: &hostname}},
					{Key: "password", Value: vmopv1common.ValueOrSecretKeySelector{From: &vmopv1common.SecretKeySelector{Name: "vapp-secret", Key: "password"}}},
				}}}}}
	if err := k8s.ctrl.Create(ctx, vapp); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the vApp properties are on the VM", func(ctx context.Context) (bool, error) {
		m, err := vmOf(ctx, k8s, vc, vapp, "config.vAppConfig")
		if m == nil {
			return false, err
		}
		if m.Config == nil || m.Config.VAppConfig == nil {
			return false, nil
		}
		got := map[string]string{}
		for _, p := range m.Config.VAppConfig.GetVmConfigInfo().Property {
			got[p.Id] = p.Value
		}
		return got["hostname"] == "vapp-one" && got["password"] == "s3cret", nil
	})

	// Inline cloud-config: rendered as a #cloud-config document, the password read from its Secret.
	inline := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "inline-ci", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon, PowerState: vmopv1.VirtualMachinePowerStateOff,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{CloudInit: &vmopv1.VirtualMachineBootstrapCloudInitSpec{
				SSHAuthorizedKeys: []string{"ssh-ed25519 AAAAC3Nza ops@example"},
				CloudConfig: &vmopv1cloudinit.CloudConfig{Timezone: "UTC", DefaultUserEnabled: true,
					Users:      []vmopv1cloudinit.User{{Name: "ops", Passwd: &vmopv1common.SecretKeySelector{Name: "vapp-secret", Key: "password"}}},
					RunCmd:     json.RawMessage(`["echo hi"]`),
					WriteFiles: []vmopv1cloudinit.WriteFile{{Path: "/etc/motd", Content: json.RawMessage(`"hello"`)}}}}}}}
	if err := k8s.ctrl.Create(ctx, inline); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rendered cloud-config is in guestinfo", func(ctx context.Context) (bool, error) {
		m, err := vmOf(ctx, k8s, vc, inline, "config.extraConfig")
		if m == nil {
			return false, err
		}
		if m.Config == nil {
			return false, nil
		}
		for _, o := range m.Config.ExtraConfig {
			if v := o.GetOptionValue(); v.Key == "guestinfo.userdata" {
				doc, _ := base64.StdEncoding.DecodeString(v.Value.(string))
				for _, want := range []string{"#cloud-config\n", "timezone: UTC", "- default", "name: ops", "passwd: s3cret",
					"ssh-ed25519 AAAAC3Nza ops@example", "- echo hi", "path: /etc/motd", "content: hello"} {
					if !strings.Contains(string(doc), want) {
						t.Logf("the document lacks %q:\n%s", want, doc)
						return false, nil
					}
				}
				return true, nil
			}
		}
		return false, nil
	})

	// Guest OS customisation: linuxPrep names the guest after the VirtualMachine; mixed with
	// cloud-init it is refused.
	prepped := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "prepped", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{LinuxPrep: &vmopv1.VirtualMachineBootstrapLinuxPrepSpec{TimeZone: "Europe/Berlin"}}}}
	if err := k8s.ctrl.Create(ctx, prepped); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the prepped guest has its name", func(ctx context.Context) (bool, error) {
		m, err := vmOf(ctx, k8s, vc, prepped, "guest.hostName", "guest.customizationInfo")
		if m == nil {
			return false, err
		}
		return m.Guest != nil && m.Guest.HostName == "prepped" && m.Guest.CustomizationInfo != nil &&
			m.Guest.CustomizationInfo.CustomizationStatus == string(types.GuestInfoCustomizationStatusTOOLSDEPLOYPKG_SUCCEEDED), nil
	})
	// An inline sysprep, its administrator password read from a Secret.
	sysprepped := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "sysprepped", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon,
			Bootstrap: &vmopv1.VirtualMachineBootstrapSpec{Sysprep: &vmopv1.VirtualMachineBootstrapSysprepSpec{Sysprep: &vmopv1sysprep.Sysprep{
				UserData: vmopv1sysprep.UserData{FullName: "Ops", OrgName: "Example"},
				GUIUnattended: &vmopv1sysprep.GUIUnattended{TimeZone: 85,
					Password: &vmopv1sysprep.PasswordSecretKeySelector{Name: "vapp-secret", Key: "password"}},
				Identification: &vmopv1sysprep.Identification{JoinWorkgroup: "WORKGROUP"}}}}}}
	if err := k8s.ctrl.Create(ctx, sysprepped); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sysprepped guest has its name", func(ctx context.Context) (bool, error) {
		m, err := vmOf(ctx, k8s, vc, sysprepped, "guest.hostName")
		if m == nil {
			return false, err
		}
		return m.Guest != nil && m.Guest.HostName == "sysprepped", nil
	})
	withPassword := prepped.DeepCopy()
	withPassword.ObjectMeta = metav1.ObjectMeta{Name: "with-password", Namespace: "drift"}
	withPassword.Spec.Bootstrap.LinuxPrep.Password = &vmopv1common.PasswordSecretKeySelector{Name: "vapp-secret", Key: "password"}
	if err := k8s.ctrl.Create(ctx, withPassword); err == nil || !strings.Contains(err.Error(), "spec.bootstrap.linuxPrep.password: setting a Linux guest's password needs vSphere 9.0") {
		t.Errorf("linuxPrep with a password: %v", err)
	}
	mixed := prepped.DeepCopy()
	mixed.ObjectMeta = metav1.ObjectMeta{Name: "mixed", Namespace: "drift"}
	mixed.Spec.Bootstrap.CloudInit = &vmopv1.VirtualMachineBootstrapCloudInitSpec{}
	if err := k8s.ctrl.Create(ctx, mixed); err == nil || !strings.Contains(err.Error(), "spec.bootstrap: cloudInit cannot be used with linuxPrep or sysprep") {
		t.Errorf("cloud-init with linuxPrep: %v", err)
	}

	// Roles: VIEW reads and cannot create; no role, nothing.
	viewerInfo := login(t, env, "viewer@vsphere.local", devopsPW)
	viewer := userClients(t, supervisorOf(t, viewerInfo, clusterA), viewerInfo.SessionID)
	eventually(t, "the viewer reads the VirtualMachine", func(ctx context.Context) (bool, error) {
		var got vmopv1.VirtualMachine
		err := viewer.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), &got)
		return err == nil && got.Status.UniqueID == vm.Status.UniqueID, nil
	})
	other := &vmopv1.VirtualMachine{ObjectMeta: metav1.ObjectMeta{Name: "viewers-vm", Namespace: "drift"},
		Spec: vmopv1.VirtualMachineSpec{ClassName: "best-effort-small", ImageName: photon}}
	if err := viewer.ctrl.Create(ctx, other); !apierrors.IsForbidden(err) {
		t.Errorf("a VIEW user creating a VirtualMachine: %v, want Forbidden", err)
	}
	strangerInfo := login(t, env, "stranger@vsphere.local", devopsPW)
	stranger := userClients(t, supervisorOf(t, strangerInfo, clusterA), strangerInfo.SessionID)
	var list vmopv1.VirtualMachineList
	if err := stranger.ctrl.List(ctx, &list, client.InNamespace("drift")); !apierrors.IsForbidden(err) {
		t.Errorf("a user with no role listing VirtualMachines: %d items, %v; want Forbidden", len(list.Items), err)
	}
}

// wantEvent waits for a Warning event of reason on vm whose message contains text.
func wantEvent(t *testing.T, c clients, vm *vmopv1.VirtualMachine, reason, text string) {
	t.Helper()
	eventually(t, "a "+reason+" event on "+vm.Name, func(ctx context.Context) (bool, error) {
		var events corev1.EventList
		if err := c.ctrl.List(ctx, &events, client.InNamespace(vm.Namespace)); err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.InvolvedObject.Name == vm.Name && e.Reason == reason && e.Type == corev1.EventTypeWarning && strings.Contains(e.Message, text) {
				return true, nil
			}
		}
		return false, nil
	})
}

// vmEvents counts the vCenter events of type kind on the VM since a time of the server's clock.
func vmEvents(t *testing.T, vc *vim25.Client, ref types.ManagedObjectReference, kind string, since time.Time) int {
	t.Helper()
	events, err := event.NewManager(vc).QueryEvents(context.Background(), types.EventFilterSpec{
		Entity: &types.EventFilterSpecByEntity{Entity: ref, Recursion: types.EventFilterSpecRecursionOptionSelf},
		Time:   &types.EventFilterSpecByTime{BeginTime: &since}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if strings.HasSuffix(fmt.Sprintf("%T", e), "."+kind) && !e.GetEvent().CreatedTime.Before(since) {
			n++
		}
	}
	return n
}

// serverTime is the inventory's clock now.
func serverTime(t *testing.T, vc *vim25.Client) time.Time {
	t.Helper()
	now, err := methods.GetCurrentTime(context.Background(), vc)
	if err != nil {
		t.Fatal(err)
	}
	return *now
}

// updateVM changes vm's spec with change and updates it, again on a conflict with the
// controller's status writes; vm is left as the API server returned it.
func updateVM(t *testing.T, c clients, vm *vmopv1.VirtualMachine, change func(*vmopv1.VirtualMachine)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.ctrl.Get(context.Background(), client.ObjectKeyFromObject(vm), vm); err != nil {
			return err
		}
		change(vm)
		return c.ctrl.Update(context.Background(), vm)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// vmOf reads props of vm's VM once the VirtualMachine reports one (nil before).
func vmOf(ctx context.Context, c clients, vc *vim25.Client, vm *vmopv1.VirtualMachine, props ...string) (*mo.VirtualMachine, error) {
	if err := c.ctrl.Get(ctx, client.ObjectKeyFromObject(vm), vm); err != nil || vm.Status.UniqueID == "" {
		return nil, err
	}
	var m mo.VirtualMachine
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vm.Status.UniqueID}
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, ref, props, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
