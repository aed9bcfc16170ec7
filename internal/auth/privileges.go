package auth

// Privilege is a vCenter privilege id such as "Namespaces.Manage".
type Privilege string

// The privileges the Supervisor APIs check, named as vCenter names them.
const (
	// PrivilegeNone marks an operation that any authenticated session may call.
	PrivilegeNone Privilege = ""

	SystemAnonymous                Privilege = "System.Anonymous"
	SystemView                     Privilege = "System.View"
	SystemRead                     Privilege = "System.Read"
	NamespacesManage               Privilege = "Namespaces.Manage"
	NamespacesConfigure            Privilege = "Namespaces.Configure"
	NamespacesUpgrade              Privilege = "Namespaces.Upgrade"
	NamespacesListAccess           Privilege = "Namespaces.ListAccess"
	NamespacesSelfServiceManage    Privilege = "Namespaces.SelfServiceManage"
	NamespacesBackup               Privilege = "Namespaces.Backup"
	NamespacesRestore              Privilege = "Namespaces.Restore"
	SupervisorServicesManage       Privilege = "SupervisorServices.Manage"
	ContentLibraryRead             Privilege = "ContentLibrary.ReadStorage"
	StorageProfileView             Privilege = "StorageProfile.View"
	ResourceAssignVMToPool         Privilege = "Resource.AssignVMToPool"
	VirtualMachineConfigAdvanced   Privilege = "VirtualMachine.Config.AdvancedConfig"
	GlobalSettings                 Privilege = "Global.Settings"
	AuthorizationModifyPermissions Privilege = "Authorization.ModifyPermissions"
	// VM inventory privileges, for vCenter's vcenter.VM operations.
	VirtualMachineInventoryDelete     Privilege = "VirtualMachine.Inventory.Delete"
	VirtualMachineInventoryRegister   Privilege = "VirtualMachine.Inventory.Register"
	VirtualMachineInventoryUnregister Privilege = "VirtualMachine.Inventory.Unregister"
	VirtualMachineInventoryCreate     Privilege = "VirtualMachine.Inventory.Create"
	VirtualMachineProvisioningClone   Privilege = "VirtualMachine.Provisioning.Clone"
	// ResourceColdMigrate moves a VM that is powered off; ResourceHotMigrate one that runs.
	ResourceColdMigrate Privilege = "Resource.ColdMigrate"
	ResourceHotMigrate  Privilege = "Resource.HotMigrate"
)

// AllPrivileges lists every privilege wcpd knows; the Admin role holds all of them.
var AllPrivileges = []Privilege{
	SystemAnonymous, SystemView, SystemRead,
	NamespacesManage, NamespacesConfigure, NamespacesUpgrade, NamespacesListAccess,
	NamespacesSelfServiceManage, NamespacesBackup, NamespacesRestore,
	SupervisorServicesManage, ContentLibraryRead, StorageProfileView,
	ResourceAssignVMToPool, VirtualMachineConfigAdvanced, GlobalSettings, AuthorizationModifyPermissions,
	VirtualMachineInventoryDelete, VirtualMachineInventoryRegister, VirtualMachineInventoryUnregister,
	VirtualMachineInventoryCreate, VirtualMachineProvisioningClone, ResourceColdMigrate, ResourceHotMigrate,
}

// KnownPrivilege reports whether p is one of AllPrivileges.
func KnownPrivilege(p Privilege) bool {
	for _, q := range AllPrivileges {
		if p == q {
			return true
		}
	}
	return false
}

// Built-in roles, as vCenter ships them.
const (
	RoleAdmin    = "Admin"
	RoleReadOnly = "ReadOnly"
	RoleNoAccess = "NoAccess"
)

func builtinRoles() map[string][]Privilege {
	return map[string][]Privilege{
		RoleAdmin:    append([]Privilege(nil), AllPrivileges...),
		RoleReadOnly: {SystemAnonymous, SystemView, SystemRead},
		RoleNoAccess: {},
	}
}
