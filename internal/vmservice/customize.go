package vmservice

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
)

// Guest OS customisation (GOSC): spec.bootstrap.linuxPrep and spec.bootstrap.sysprep become a
// vSphere customization spec applied to the new VM before its first power-on, as VM Operator's
// LinuxPrep and Sysprep bootstrap providers do. The guest's name is the VirtualMachine's (or
// spec.network.hostName); its one network adapter takes DHCP. Of an inline sysprep, the user
// data (full and organisation name), the time zone, automatic logon and the workgroup or domain
// are passed; passwords and product keys held in Secrets are not (see docs/vmservice.md).

// customization returns the customization spec of the VirtualMachine's bootstrap, or nil.
func customization(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine) (*types.CustomizationSpec, error) {
	b := vm.Spec.Bootstrap
	if b == nil || (b.LinuxPrep == nil && b.Sysprep == nil) {
		return nil, nil
	}
	hostname := vm.Name
	if n := vm.Spec.Network; n != nil && n.HostName != "" {
		hostname = n.HostName
	}
	spec := &types.CustomizationSpec{
		NicSettingMap: []types.CustomizationAdapterMapping{{Adapter: types.CustomizationIPSettings{Ip: &types.CustomizationDhcpIpGenerator{}}}},
	}
	switch {
	case b.LinuxPrep != nil:
		lp := b.LinuxPrep
		spec.Identity = &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: hostname},
			Domain: "local", TimeZone: lp.TimeZone, HwClockUTC: lp.HardwareClockIsUTC}
	case b.Sysprep.RawSysprep != nil:
		sel := b.Sysprep.RawSysprep
		var secret corev1.Secret
		if err := cl.Get(ctx, client.ObjectKey{Namespace: vm.Namespace, Name: sel.Name}, &secret); err != nil {
			return nil, fmt.Errorf("spec.bootstrap.sysprep.rawSysprep: Secret %s: %w", sel.Name, err)
		}
		data, ok := secret.Data[sel.Key]
		if !ok {
			return nil, fmt.Errorf("spec.bootstrap.sysprep.rawSysprep: Secret %s has no key %q", sel.Name, sel.Key)
		}
		spec.Identity = &types.CustomizationSysprepText{Value: string(data)}
	case b.Sysprep.Sysprep != nil:
		s := b.Sysprep.Sysprep
		id := &types.CustomizationSysprep{
			UserData: types.CustomizationUserData{FullName: s.UserData.FullName, OrgName: s.UserData.OrgName,
				ComputerName: &types.CustomizationFixedName{Name: hostname}},
		}
		if g := s.GUIUnattended; g != nil {
			id.GuiUnattended = types.CustomizationGuiUnattended{TimeZone: g.TimeZone, AutoLogon: g.AutoLogon, AutoLogonCount: g.AutoLogonCount}
		}
		if i := s.Identification; i != nil {
			id.Identification = types.CustomizationIdentification{JoinWorkgroup: i.JoinWorkgroup, DomainAdmin: i.DomainAdmin}
		}
		spec.Identity = id
	default:
		return nil, nil
	}
	return spec, nil
}

// customize applies the VirtualMachine's guest OS customisation to its new, powered-off VM.
func (c *Controller) customize(ctx context.Context, cl client.Client, ref types.ManagedObjectReference, vm *vmopv1.VirtualMachine) error {
	spec, err := customization(ctx, cl, vm)
	if err != nil || spec == nil {
		return err
	}
	if err := runTask(ctx)(object.NewVirtualMachine(c.inv.Client(), ref).Customize(ctx, *spec)); err != nil {
		return fmt.Errorf("customizing the guest of %s/%s: %w", vm.Namespace, vm.Name, err)
	}
	return nil
}
