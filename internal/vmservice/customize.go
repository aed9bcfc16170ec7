package vmservice

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	vmopv1common "github.com/vmware-tanzu/vm-operator/api/v1alpha5/common"
)

// Guest OS customisation (GOSC): spec.bootstrap.linuxPrep and spec.bootstrap.sysprep become a
// vSphere customization spec applied to the new VM before its first power-on, as VM Operator's
// LinuxPrep and Sysprep bootstrap providers do. The guest's name is the VirtualMachine's (or
// spec.network.hostName); its one network adapter takes DHCP. Of an inline sysprep, the user
// data, time zone, automatic logon, administrator password, workgroup or domain administrator,
// run-once commands and licence mode are passed, Secrets read; what needs a later vSphere API than
// the 8.0U2 this server implements (a Linux password, scripts on Windows, expiring passwords) is
// refused at admission (customizationProblem).

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
		id := &types.CustomizationLinuxPrep{HostName: &types.CustomizationFixedName{Name: hostname},
			Domain: "local", TimeZone: lp.TimeZone, HwClockUTC: lp.HardwareClockIsUTC}
		if st := lp.ScriptText; st != nil {
			script, err := valueOrSecret(ctx, cl, vm.Namespace, "spec.bootstrap.linuxPrep.scriptText", *st)
			if err != nil {
				return nil, err
			}
			id.ScriptText = script
		}
		spec.Identity = id
	case b.Sysprep.RawSysprep != nil:
		sel := b.Sysprep.RawSysprep
		data, err := secretValue(ctx, cl, vm.Namespace, "spec.bootstrap.sysprep.rawSysprep", sel.Name, sel.Key)
		if err != nil {
			return nil, err
		}
		spec.Identity = &types.CustomizationSysprepText{Value: data}
	case b.Sysprep.Sysprep != nil:
		s := b.Sysprep.Sysprep
		id := &types.CustomizationSysprep{
			UserData: types.CustomizationUserData{FullName: s.UserData.FullName, OrgName: s.UserData.OrgName,
				ComputerName: &types.CustomizationFixedName{Name: hostname}},
		}
		secret := func(field, name, key string) (string, error) {
			return secretValue(ctx, cl, vm.Namespace, field, name, key)
		}
		if p := s.UserData.ProductID; p != nil {
			v, err := secret("spec.bootstrap.sysprep.sysprep.userData.productID", p.Name, p.Key)
			if err != nil {
				return nil, err
			}
			id.UserData.ProductId = v
		}
		if g := s.GUIUnattended; g != nil {
			id.GuiUnattended = types.CustomizationGuiUnattended{TimeZone: g.TimeZone, AutoLogon: g.AutoLogon, AutoLogonCount: g.AutoLogonCount}
			if p := g.Password; p != nil {
				v, err := secret("spec.bootstrap.sysprep.sysprep.guiUnattended.password", p.Name, p.Key)
				if err != nil {
					return nil, err
				}
				id.GuiUnattended.Password = &types.CustomizationPassword{Value: v, PlainText: true}
			}
		}
		if i := s.Identification; i != nil {
			id.Identification = types.CustomizationIdentification{JoinWorkgroup: i.JoinWorkgroup, DomainAdmin: i.DomainAdmin, DomainOU: i.DomainOU}
			if p := i.DomainAdminPassword; p != nil {
				v, err := secret("spec.bootstrap.sysprep.sysprep.identification.domainAdminPassword", p.Name, p.Key)
				if err != nil {
					return nil, err
				}
				id.Identification.DomainAdminPassword = &types.CustomizationPassword{Value: v, PlainText: true}
			}
		}
		if r := s.GUIRunOnce; r != nil && len(r.Commands) > 0 {
			id.GuiRunOnce = &types.CustomizationGuiRunOnce{CommandList: r.Commands}
		}
		if l := s.LicenseFilePrintData; l != nil {
			id.LicenseFilePrintData = &types.CustomizationLicenseFilePrintData{AutoMode: types.CustomizationLicenseDataMode(l.AutoMode), AutoUsers: ptrValue(l.AutoUsers)}
		}
		spec.Identity = id
	default:
		return nil, nil
	}
	return spec, nil
}

// secretValue reads key of the namespace's Secret name, for field.
func secretValue(ctx context.Context, cl client.Client, namespace, field, name, key string) (string, error) {
	var secret corev1.Secret
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &secret); err != nil {
		return "", fmt.Errorf("%s: Secret %s: %w", field, name, err)
	}
	v, ok := secret.Data[key]
	if !ok {
		return "", fmt.Errorf("%s: Secret %s has no key %q", field, name, key)
	}
	return string(v), nil
}

// valueOrSecret is a value given inline or read from a Secret.
func valueOrSecret(ctx context.Context, cl client.Client, namespace, field string, v vmopv1common.ValueOrSecretKeySelector) (string, error) {
	if v.From != nil {
		return secretValue(ctx, cl, namespace, field+".from", v.From.Name, v.From.Key)
	}
	if v.Value != nil {
		return *v.Value, nil
	}
	return "", nil
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// customizationProblem says what of a bootstrap's guest OS customisation the vSphere API this
// server implements (8.0U2) cannot carry.
func customizationProblem(b *vmopv1.VirtualMachineBootstrapSpec) string {
	switch {
	case b == nil:
		return ""
	case b.LinuxPrep != nil && b.LinuxPrep.Password != nil:
		return "spec.bootstrap.linuxPrep.password: setting a Linux guest's password needs vSphere 9.0's customization API; this server implements 8.0U2"
	case b.LinuxPrep != nil && b.LinuxPrep.ExpirePasswordAfterNextLogin:
		return "spec.bootstrap.linuxPrep.expirePasswordAfterNextLogin: needs vSphere 9.0's customization API; this server implements 8.0U2"
	case b.Sysprep != nil && b.Sysprep.Sysprep != nil && b.Sysprep.Sysprep.ScriptText != nil:
		return "spec.bootstrap.sysprep.sysprep.scriptText: needs vSphere 9.1's customization API; this server implements 8.0U2"
	case b.Sysprep != nil && b.Sysprep.Sysprep != nil && b.Sysprep.Sysprep.ExpirePasswordAfterNextLogin:
		return "spec.bootstrap.sysprep.sysprep.expirePasswordAfterNextLogin: needs vSphere 9.1's customization API; this server implements 8.0U2"
	}
	return ""
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
