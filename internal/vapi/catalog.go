// Code generated once from the operation list of vSphere 8.0U2 and maintained by hand since; the
// routing test holds catalog against ../shared/reference/vcenter-api-8.0U2.json, and catalogLater
// (operations added after 8.0U2) against reference §4.

package vapi

import "github.com/wcpd/wcpd/internal/auth"

// catalog declares every Supervisor operation of vSphere 8.0U2 with its REST binding and the privilege
// it requires. Service packages attach handlers to these entries by service and operation id.
var catalog = []Binding{
	{Service: "namespace_management.NSX_tier0_gateway", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/nsx-tier0-gateways", Query: []string{"distributed_switch"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.cluster_available_versions", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/software/cluster-available-versions", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.cluster_compatibility", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/cluster-compatibility", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.cluster_compatibility", Name: "list_v2", Method: "GET", Path: "/vcenter/namespace-management/cluster-compatibility/v2", Wrapped: []string{"zone_filter", "cluster_filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.cluster_size_info", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/cluster-size-info", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.clusters", Name: "disable", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}", Action: "disable", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.clusters", Name: "enable", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}", Action: "enable", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.clusters", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.clusters", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/clusters", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.clusters", Name: "rotate_password", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}", Action: "rotate_password", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.clusters", Name: "set", Method: "PUT", Path: "/vcenter/namespace-management/clusters/{cluster}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.clusters", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/clusters/{cluster}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.clusters.topology", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/topology", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.distributed_switch_compatibility", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/distributed-switch-compatibility", Query: []string{"cluster"}, Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.edge_cluster_compatibility", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/edge-cluster-compatibility", Query: []string{"cluster", "distributed_switch"}, Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.hosts_config", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/capability", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.load_balancers", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/load-balancers/{id}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.load_balancers", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/load-balancers", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.load_balancers", Name: "set", Method: "PUT", Path: "/vcenter/namespace-management/clusters/{cluster}/load-balancers/{id}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.load_balancers", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/clusters/{cluster}/load-balancers/{id}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.namespace_resource_options", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/workload-resource-options", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}/networks", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.networks", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/clusters/{cluster}/networks/{network}", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.networks", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/networks/{network}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/networks", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks", Name: "set", Method: "PUT", Path: "/vcenter/namespace-management/clusters/{cluster}/networks/{network}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.networks", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/clusters/{cluster}/networks/{network}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.networks.nsx.distributed_switches", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/networks/nsx/distributed-switches", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks.nsx.distributed_switches.compatibility", Name: "check", Method: "POST", Path: "/vcenter/namespace-management/networks/nsx/distributed-switches", Action: "check_compatibility", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks.nsx.edges", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/networks/nsx/edges", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.networks.nsx.edges.compatibility", Name: "check", Method: "POST", Path: "/vcenter/namespace-management/networks/nsx/edges", Action: "check_compatibility", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.software.clusters", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/software/clusters/{cluster}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.software.clusters", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/software/clusters", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.software.clusters", Name: "upgrade", Method: "POST", Path: "/vcenter/namespace-management/software/clusters/{cluster}", Action: "upgrade", Body: "spec", Status: 204, Privilege: auth.NamespacesUpgrade},
	{Service: "namespace_management.software.clusters", Name: "upgrade_multiple", Method: "POST", Path: "/vcenter/namespace-management/software/clusters", Action: "upgradeMultiple", Body: "specs", Status: 200, Privilege: auth.NamespacesUpgrade},
	{Service: "namespace_management.stats.time_series", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/stats/time-series", Wrapped: []string{"spec"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.storage.profiles", Name: "check", Method: "POST", Path: "/vcenter/namespace-management/storage/profiles", Action: "check_compatibility", Body: "filter", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services", Name: "activate", Method: "PATCH", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}", Action: "activate", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services", Name: "check_content", Method: "POST", Path: "/vcenter/namespace-management/supervisor-services", Action: "checkContent", Wrapped: []string{"spec"}, Status: 200, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/supervisor-services", Body: "spec", Status: 201, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services", Name: "deactivate", Method: "PATCH", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}", Action: "deactivate", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/supervisor-services", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}", Body: "spec", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.cluster_supervisor_services", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}/supervisor-services", Body: "spec", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.cluster_supervisor_services", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/clusters/{cluster}/supervisor-services/{supervisorService}", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.cluster_supervisor_services", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/supervisor-services/{supervisorService}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services.cluster_supervisor_services", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/clusters/{cluster}/supervisor-services", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services.cluster_supervisor_services", Name: "set", Method: "PUT", Path: "/vcenter/namespace-management/clusters/{cluster}/supervisor-services/{supervisorService}", Body: "spec", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.versions", Name: "activate", Method: "PATCH", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions/{version}", Action: "activate", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.versions", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions", Body: "spec", Status: 201, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.versions", Name: "deactivate", Method: "PATCH", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions/{version}", Action: "deactivate", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.versions", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions/{version}", Status: 204, Privilege: auth.SupervisorServicesManage},
	{Service: "namespace_management.supervisor_services.versions", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions/{version}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisor_services.versions", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/supervisor-services/{supervisorService}/versions", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors", Name: "enable_on_compute_cluster", Method: "POST", Path: "/vcenter/namespace-management/supervisors/{cluster}", Action: "enable_on_compute_cluster", Body: "spec", Status: 200, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors", Name: "enable_on_zones", Method: "POST", Path: "/vcenter/namespace-management/supervisors", Action: "enable_on_zones", Body: "spec", Status: 200, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors.conditions", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisors/{supervisor}/conditions", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors.identity.providers", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers", Body: "spec", Status: 200, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors.identity.providers", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers/{provider}", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors.identity.providers", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers/{provider}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors.identity.providers", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors.identity.providers", Name: "set", Method: "PUT", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers/{provider}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors.identity.providers", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/supervisors/{supervisor}/identity/providers/{provider}", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.supervisors.summary", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisors/{supervisor}/summary", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors.summary", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/supervisors/summaries", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.supervisors.topology", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/supervisors/{supervisor}/topology", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.support_bundle", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/clusters/{cluster}/support-bundle", Status: 201, Privilege: auth.NamespacesManage},
	{Service: "namespace_management.virtual_machine_classes", Name: "create", Method: "POST", Path: "/vcenter/namespace-management/virtual-machine-classes", Body: "spec", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespace_management.virtual_machine_classes", Name: "delete", Method: "DELETE", Path: "/vcenter/namespace-management/virtual-machine-classes/{vm_class}", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespace_management.virtual_machine_classes", Name: "get", Method: "GET", Path: "/vcenter/namespace-management/virtual-machine-classes/{vm_class}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.virtual_machine_classes", Name: "list", Method: "GET", Path: "/vcenter/namespace-management/virtual-machine-classes", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespace_management.virtual_machine_classes", Name: "update", Method: "PATCH", Path: "/vcenter/namespace-management/virtual-machine-classes/{vm_class}", Body: "spec", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.access", Name: "create", Method: "POST", Path: "/vcenter/namespaces/instances/{namespace}/access/{domain}/{subject}", Query: []string{"type"}, Body: "spec", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.access", Name: "delete", Method: "DELETE", Path: "/vcenter/namespaces/instances/{namespace}/access/{domain}/{subject}", Query: []string{"type"}, Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.access", Name: "get", Method: "GET", Path: "/vcenter/namespaces/instances/{namespace}/access/{domain}/{subject}", Query: []string{"type"}, Status: 200, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.access", Name: "set", Method: "PUT", Path: "/vcenter/namespaces/instances/{namespace}/access/{domain}/{subject}", Query: []string{"type"}, Body: "spec", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "create", Method: "POST", Path: "/vcenter/namespaces/instances", Body: "spec", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "create_v2", Method: "POST", Path: "/vcenter/namespaces/instances/v2", Body: "spec", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "namespaces.instances", Name: "delete", Method: "DELETE", Path: "/vcenter/namespaces/instances/{namespace}", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "get", Method: "GET", Path: "/vcenter/namespaces/instances/{namespace}", Status: 200, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "get_v2", Method: "GET", Path: "/vcenter/namespaces/instances/v2/{namespace}", Status: 200, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "list", Method: "GET", Path: "/vcenter/namespaces/instances", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.instances", Name: "list_v2", Method: "GET", Path: "/vcenter/namespaces/instances/v2", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.instances", Name: "set", Method: "PUT", Path: "/vcenter/namespaces/instances/{namespace}", Body: "spec", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.instances", Name: "update", Method: "PATCH", Path: "/vcenter/namespaces/instances/{namespace}", Body: "spec", Status: 204, Privilege: auth.PrivilegeNone},
	{Service: "namespaces.namespace_self_service", Name: "activate", Method: "POST", Path: "/vcenter/namespaces/namespace-self-service/{cluster}", Action: "activate", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_self_service", Name: "activate_with_template", Method: "POST", Path: "/vcenter/namespaces/namespace-self-service/{cluster}", Action: "activateWithTemplate", Body: "spec", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_self_service", Name: "deactivate", Method: "POST", Path: "/vcenter/namespaces/namespace-self-service/{cluster}", Action: "deactivate", Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_self_service", Name: "get", Method: "GET", Path: "/vcenter/namespaces/namespace-self-service/{cluster}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_self_service", Name: "list", Method: "GET", Path: "/vcenter/namespaces/namespace-self-service", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_templates", Name: "create", Method: "POST", Path: "/vcenter/namespaces/namespace-templates/clusters/{cluster}", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_templates", Name: "create_v2", Method: "POST", Path: "/vcenter/namespaces/namespace-templates/supervisors/{supervisor}", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_templates", Name: "get", Method: "GET", Path: "/vcenter/namespaces/namespace-templates/clusters/{cluster}/templates/{template}", AltPaths: []string{"/vcenter/namespaces/namespace-templates/clusters/{cluster}/{template}"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_templates", Name: "get_v2", Method: "GET", Path: "/vcenter/namespaces/namespace-templates/supervisors/{supervisor}/templates/{template}", AltPaths: []string{"/vcenter/namespaces/namespace-templates/supervisors/{supervisor}/{template}"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_templates", Name: "list", Method: "GET", Path: "/vcenter/namespaces/namespace-templates/clusters/{cluster}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_templates", Name: "list_v2", Method: "GET", Path: "/vcenter/namespaces/namespace-templates/supervisors/{supervisor}", Status: 200, Privilege: auth.SystemRead},
	{Service: "namespaces.namespace_templates", Name: "update", Method: "PATCH", Path: "/vcenter/namespaces/namespace-templates/clusters/{cluster}/templates/{template}", Wrapped: []string{"spec"}, BareBodyToo: true, AltPaths: []string{"/vcenter/namespaces/namespace-templates/clusters/{cluster}/{template}"}, Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.namespace_templates", Name: "update_v2", Method: "PATCH", Path: "/vcenter/namespaces/namespace-templates/supervisors/{supervisor}/templates/{template}", Wrapped: []string{"spec"}, BareBodyToo: true, AltPaths: []string{"/vcenter/namespaces/namespace-templates/supervisors/{supervisor}/{template}"}, Status: 204, Privilege: auth.NamespacesConfigure},
	{Service: "namespaces.user.instances", Name: "list", Method: "GET", Path: "/vcenter/namespaces-user/namespaces", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.PrivilegeNone},
}

// laterBinding is an operation vSphere added after 8.0U2, with the release that added it.
type laterBinding struct {
	Since string // vSphere release, e.g. "8.0U3"
	Binding
}

// catalogLater declares the Supervisor operations added after vSphere 8.0U2 that wcpd serves, from
// reference §4 (the 8.0U2 reference JSON does not have them, so TestCatalogMatchesReference holds
// only catalog to it; TestLaterOperationsRoute checks these). NewRegistry registers both lists.
var catalogLater = []laterBinding{
	// vSphere 8.0U3 (API 8.0.3.0), reference §4.1.
	{Since: "8.0U3", Binding: Binding{Service: "namespaces.instances", Name: "register_vm", Method: "POST", Path: "/vcenter/namespaces/instances/{namespace}/registervm", Body: "spec", Status: 200, Privilege: auth.NamespacesManage}},
}

// catalogNeighbours declares the operations of vCenter next to the Supervisor API that wcpd serves:
// the inventory basics people look ids up with, from the embedded inventory, and vSphere Zones
// (reference vcenter-api-neighbours.md). TestNeighbourOperationsMatchTheReference holds them to its metadata.
var catalogNeighbours = []Binding{
	{Service: "cluster", Name: "list", Method: "GET", Path: "/vcenter/cluster", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "cluster", Name: "get", Method: "GET", Path: "/vcenter/cluster/{cluster}", Status: 200, Privilege: auth.SystemRead},
	{Service: "datacenter", Name: "list", Method: "GET", Path: "/vcenter/datacenter", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "datacenter", Name: "get", Method: "GET", Path: "/vcenter/datacenter/{datacenter}", Status: 200, Privilege: auth.SystemRead},
	{Service: "datastore", Name: "list", Method: "GET", Path: "/vcenter/datastore", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "datastore", Name: "get", Method: "GET", Path: "/vcenter/datastore/{datastore}", Status: 200, Privilege: auth.SystemRead},
	{Service: "folder", Name: "list", Method: "GET", Path: "/vcenter/folder", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "host", Name: "list", Method: "GET", Path: "/vcenter/host", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "network", Name: "list", Method: "GET", Path: "/vcenter/network", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "resource_pool", Name: "list", Method: "GET", Path: "/vcenter/resource-pool", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "resource_pool", Name: "get", Method: "GET", Path: "/vcenter/resource-pool/{resource-pool}", Status: 200, Privilege: auth.SystemRead},
	{Service: "storage.policies", Name: "list", Method: "GET", Path: "/vcenter/storage/policies", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	// vcenter.VM: the reference records no action for clone, instant_clone, register, relocate and
	// unregister, which share their paths with create (POST /vcenter/vm) and each other (POST
	// /vcenter/vm/{vm}); vCenter's ?action=clone, instant-clone, register, relocate and unregister
	// tell them apart. Like vCenter's /api, the operations that take a spec accept it bare as well
	// as wrapped. clone$task and relocate$task are not declared: they answer a cis.TASK id, and no
	// task service to follow one is served (docs/inventory.md).
	{Service: "VM", Name: "list", Method: "GET", Path: "/vcenter/vm", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "VM", Name: "get", Method: "GET", Path: "/vcenter/vm/{vm}", Status: 200, Privilege: auth.SystemRead},
	{Service: "VM", Name: "create", Method: "POST", Path: "/vcenter/vm", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 201, Privilege: auth.VirtualMachineInventoryCreate},
	{Service: "VM", Name: "clone", Method: "POST", Path: "/vcenter/vm", Action: "clone", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 201, Privilege: auth.VirtualMachineProvisioningClone},
	{Service: "VM", Name: "instant_clone", Method: "POST", Path: "/vcenter/vm", Action: "instant-clone", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 201, Privilege: auth.VirtualMachineProvisioningClone},
	{Service: "VM", Name: "relocate", Method: "POST", Path: "/vcenter/vm/{vm}", Action: "relocate", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 204, Privilege: auth.ResourceColdMigrate},
	{Service: "VM", Name: "delete", Method: "DELETE", Path: "/vcenter/vm/{vm}", Status: 204, Privilege: auth.VirtualMachineInventoryDelete},
	{Service: "VM", Name: "register", Method: "POST", Path: "/vcenter/vm", Action: "register", Wrapped: []string{"spec"}, BareBodyToo: true, Status: 201, Privilege: auth.VirtualMachineInventoryRegister},
	{Service: "VM", Name: "unregister", Method: "POST", Path: "/vcenter/vm/{vm}", Action: "unregister", Status: 204, Privilege: auth.VirtualMachineInventoryUnregister},
	// vSphere Zones (consumption domains), kept in wcpd's store (internal/zones).
	{Service: "consumption_domains.zones", Name: "create", Method: "POST", Path: "/vcenter/consumption-domains/zones", Body: "spec", Status: 201, Privilege: auth.NamespacesManage},
	{Service: "consumption_domains.zones", Name: "get", Method: "GET", Path: "/vcenter/consumption-domains/zones/{zone}", Status: 200, Privilege: auth.SystemRead},
	{Service: "consumption_domains.zones", Name: "list", Method: "GET", Path: "/vcenter/consumption-domains/zones", Wrapped: []string{"spec"}, Status: 200, Privilege: auth.SystemRead},
	{Service: "consumption_domains.zones", Name: "delete", Method: "DELETE", Path: "/vcenter/consumption-domains/zones/{zone}", Status: 204, Privilege: auth.NamespacesManage},
	{Service: "consumption_domains.zones.cluster.associations", Name: "add", Method: "POST", Path: "/vcenter/consumption-domains/zones/cluster/{zone}/associations", Action: "add", Body: "clusters", Status: 200, Privilege: auth.NamespacesManage},
	{Service: "consumption_domains.zones.cluster.associations", Name: "remove", Method: "POST", Path: "/vcenter/consumption-domains/zones/cluster/{zone}/associations", Action: "remove", Body: "clusters", Status: 200, Privilege: auth.NamespacesManage},
	{Service: "consumption_domains.zones.cluster.associations", Name: "get", Method: "GET", Path: "/vcenter/consumption-domains/zones/cluster/{zone}/associations", Status: 200, Privilege: auth.SystemRead},
	{Service: "consumption_domains.zone_associations.cluster", Name: "list", Method: "GET", Path: "/vcenter/consumption-domains/zone-associations/cluster", Wrapped: []string{"filter"}, Status: 200, Privilege: auth.SystemRead},
}

// allBindings is every declared operation: the 8.0U2 catalog, the later ones, then the neighbours.
func allBindings() []Binding {
	out := make([]Binding, 0, len(catalog)+len(catalogLater)+len(catalogNeighbours))
	out = append(out, catalog...)
	for _, l := range catalogLater {
		out = append(out, l.Binding)
	}
	return append(out, catalogNeighbours...)
}

// NeighbourOperations lists the ids of the declared operations of vCenter's inventory API.
func NeighbourOperations() []string {
	out := make([]string, 0, len(catalogNeighbours))
	for _, b := range catalogNeighbours {
		out = append(out, b.ID())
	}
	return out
}

// LaterOperation is a declared operation that vSphere added after 8.0U2.
type LaterOperation struct {
	ID    string // operation id, e.g. com.vmware.vcenter.namespaces.instances.register_vm
	Since string // the vSphere release that added it, e.g. "8.0U3"
}

// OperationsAfter8U2 lists the declared operations that vSphere added after 8.0U2, as declared.
func OperationsAfter8U2() []LaterOperation {
	out := make([]LaterOperation, 0, len(catalogLater))
	for _, l := range catalogLater {
		out = append(out, LaterOperation{ID: l.Binding.ID(), Since: l.Since})
	}
	return out
}
