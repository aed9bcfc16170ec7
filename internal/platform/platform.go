// Package platform owns what every API family shares: the dependencies a family is built from, the
// Family interface the server drives, and the contracts through which families read each other's
// state (a family never reaches into another's store records).
package platform

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/clock"
	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Deps is what a family is built from. When the coverage command builds the registry without
// starting anything, every field but Families is nil: constructors and Register must only keep the
// pointer, never use it.
type Deps struct {
	Store        *store.Store
	Inventory    *inventory.Inventory
	Identity     *auth.Directory
	Clock        clock.Clock
	Logger       *slog.Logger
	TaskDuration time.Duration
	// DataDir is the server's data directory (absolute), for the few files an administrator places
	// beside the store, such as the Supervisor Services trust bundle in <DataDir>/trust.
	DataDir string
	// Controllers collects every family's controllers so the server runs them and tests can wait
	// until they are idle.
	Controllers *controller.Group
	// Families gives access to the other families' contracts; it is filled in before any Start.
	Families *Families
	// Sessions are the vCenter API's sessions (a Kubernetes login is one).
	Sessions *vapi.Sessions
	// Invoke runs a vCenter API operation for a user outside HTTP (vapi.API.Invoke); it is set once
	// the API exists, after every family has started, and is for request-time use only.
	Invoke func(ctx context.Context, p auth.Principal, id string, params map[string]string, body []byte) (any, error)
}

// Family is one API family (clusters, namespaces, VM classes, ...).
type Family interface {
	// Register attaches the family's handlers to the registry.
	Register(r *vapi.Registry)
	// Start opens the family's store collections and adds its controllers to Deps.Controllers.
	// Controllers must resume unfinished work found in the store (a restart mid-enable finishes).
	Start(ctx context.Context) error
}

// Families holds the contracts families offer each other. A field is nil until the family that
// provides it is constructed; all are set before any family starts.
type Families struct {
	Supervisors Supervisors // clusters family (issue 3)
	Faults      Faults      // clusters family (issue 3): /api/wcpd/faults
	Namespaces  Namespaces  // namespaces family (issue 4)
	VMClasses   VMClasses   // vmclasses family (issue 5)
	Resources   Resources   // resources family (issue 7)
	Zones       Zones       // zones family (issue 14): vSphere Zones (consumption domains)
	// Kubernetes is offered by internal/kubeapi (issue 11); nil when wcpd runs no Kubernetes API
	// servers (the Kubernetes side is turned off).
	Kubernetes Kubernetes
	// NamespaceConfigs is offered by the namespaces family, SelfService by the selfservice family
	// (issue 5): self-service templates hold namespace configuration that only the namespaces family
	// interprets, and the namespaces family creates self-service namespaces from them.
	NamespaceConfigs NamespaceConfigs
	SelfService      SelfService
}

// Supervisor config statuses, as the API spells them.
const (
	StatusConfiguring = "CONFIGURING"
	StatusRunning     = "RUNNING"
	StatusRemoving    = "REMOVING"
	StatusError       = "ERROR"
)

// SupervisorState is what other families need to know about the Supervisor on a cluster.
type SupervisorState struct {
	Cluster          string // cluster MoRef id, e.g. domain-c9
	ID               string // Supervisor id of the 8.0 API
	Name             string
	ConfigStatus     string // StatusConfiguring, StatusRunning, StatusRemoving, StatusError
	KubernetesStatus string // READY, WARNING, ERROR
	// APIServerEndpoint is where DevOps users reach the Supervisor's Kubernetes API: the cluster
	// endpoint (load balancer or ingress address), as api_server_cluster_endpoint reports it.
	APIServerEndpoint string
	// NamespacesPool is the MoRef id of the cluster's "Namespaces" resource pool once created.
	NamespacesPool    string
	KubernetesVersion string
	// Upgraded is set once the Supervisor has completed at least one upgrade.
	UpgradeCount int
	// WorkloadAddresses are the address ranges of the primary workload network (vSphere
	// networking), from which VM Service's VMs get their addresses; LoadBalancerAddresses those of
	// the load balancers, from which services get their external addresses.
	WorkloadAddresses     []AddressRange
	LoadBalancerAddresses []AddressRange
	// PodCIDRs are the pod networks of an NSX Supervisor (its pod_cidrs), in CIDR notation; empty
	// for vSphere networking.
	PodCIDRs []string
}

// AddressRange is count IPv4 addresses from Address.
type AddressRange struct {
	Address string
	Count   int64
}

// Supervisors is offered by the clusters family (issue 3).
type Supervisors interface {
	// Supervisor finds the Supervisor by cluster MoRef id or by Supervisor id.
	Supervisor(clusterOrID string) (SupervisorState, bool)
	// List returns every Supervisor, sorted by cluster.
	List() []SupervisorState
	// WatchChanges calls fn with the primary cluster of every Supervisor that changes (created,
	// changed or removed) from now until ctx ends, one call at a time.
	WatchChanges(ctx context.Context, fn func(cluster string))
	// KubernetesChanged tells the clusters family that the state of a Supervisor's Kubernetes API
	// server changed, so it reports it (kubernetes_status, messages, conditions).
	KubernetesChanged(cluster string)
}

// Zones is offered by the zones family (issue 14). A vSphere Zone holds one cluster. A cluster
// that no zone holds is a zone of its own, named zone-<cluster id>, as before zones could be made.
type Zones interface {
	// ZoneOf is the zone of cluster.
	ZoneOf(cluster string) string
	// ClusterOf resolves a zone id to its cluster; false for an unknown zone or one without a
	// cluster.
	ClusterOf(zone string) (string, bool)
}

// ImplicitZone is the zone of a cluster that no zone holds.
func ImplicitZone(cluster string) string { return implicitZonePrefix + cluster }

// ImplicitZoneCluster is the cluster an ImplicitZone name stands for, if zone is such a name.
func ImplicitZoneCluster(zone string) (string, bool) {
	cluster, ok := strings.CutPrefix(zone, implicitZonePrefix)
	return cluster, ok && cluster != ""
}

const implicitZonePrefix = "zone-"

// Namespaces is offered by the namespaces family (issue 4).
type Namespaces interface {
	// OnCluster lists the names of the namespaces on a cluster, system namespaces included.
	OnCluster(cluster string) []string
	// RemoveAllOnCluster starts removing every namespace of a cluster (a Supervisor is being
	// disabled); they go through REMOVING and are gone when OnCluster no longer lists them.
	RemoveAllOnCluster(ctx context.Context, cluster string) error
	// CreateSystem creates a system namespace on cluster, such as the one a Supervisor Service's
	// operators run in; it is listed like vCenter lists such namespaces. Creating one that exists
	// is not an error.
	CreateSystem(ctx context.Context, cluster, name string) error
	// RemoveSystem starts removing a system namespace; removing one that is gone is not an error.
	RemoveSystem(ctx context.Context, cluster, name string) error
	// OfferingVMClass lists the namespaces whose vm_service_spec offers the VM class.
	OfferingVMClass(id string) []string
	// ForgetVMClass takes a deleted VM class out of every namespace's vm_service_spec.
	ForgetVMClass(ctx context.Context, id string) error
	// Realisation describes a namespace for the Kubernetes side; false when there is none.
	Realisation(name string) (NamespaceRealisation, bool)
	// WatchChanges calls fn with the name of every namespace that changes (created, changed or
	// removed) from now until ctx ends, one call at a time.
	WatchChanges(ctx context.Context, fn func(name string))
	// ReportKubernetes records why a namespace cannot be realised in its Supervisor's Kubernetes
	// API (problem "" clears it); it shows among the namespace's messages.
	ReportKubernetes(ctx context.Context, name, problem string) error
	// KubernetesReleased tells the namespaces family that the Kubernetes side let go of a namespace
	// being removed (Kubernetes.NamespaceReleased now answers true), so its removal can finish.
	KubernetesReleased(name string)
}

// VMClassState is what other families need to know about a VM class.
type VMClassState struct {
	ID           string
	CPUCount     int64
	MemoryMB     int64
	ConfigStatus string // READY, or REMOVING while VMs still use a deleted class
	Description  string
	// CPUReservation and MemoryReservation are percentages (0-100) of the class's CPU and memory
	// reserved for its VMs, nil when the class reserves nothing.
	CPUReservation    *int64
	MemoryReservation *int64
	// ConfigSpec is the class's config_spec as stored (govmomi's discriminator JSON), nil if none.
	ConfigSpec json.RawMessage
}

// VMClasses is offered by the vmclasses family (issue 5).
type VMClasses interface {
	VMClass(id string) (VMClassState, bool)
	// WatchChanges calls fn with the id of every VM class that changes (created, changed or
	// removed) from now until ctx ends, one call at a time.
	WatchChanges(ctx context.Context, fn func(id string))
}

// Fault is an injected failure: the next matching operation ends in ERROR with Message, or stalls.
type Fault struct {
	Mode    string // "ERROR" or "STALL"
	Message string
}

// Faults is offered by the clusters family (issue 3), which serves /api/wcpd/faults.
type Faults interface {
	// Take consumes the fault armed for operation ("enable", "upgrade", "disable", "install", ...)
	// on target (a cluster MoRef id, or a service id), if any.
	Take(operation, target string) (Fault, bool)
}

// Usage is what a cluster or namespace uses and may use, from the resource model.
type Usage struct {
	CPUUsedMHz        int64
	CPUCapacityMHz    int64
	MemoryUsedMB      int64
	MemoryCapacityMB  int64
	StorageUsedMB     int64
	StorageCapacityMB int64
}

// Resources is offered by the resources family (issue 7): usage computed from the inventory and
// the resource model, never constants.
type Resources interface {
	ClusterUsage(ctx context.Context, cluster string) (Usage, error)
	NamespaceUsage(ctx context.Context, cluster, namespace string) (Usage, error)
	// NamespaceConsumption is what every namespace with a pool on cluster uses: the used CPU,
	// memory and storage of NamespaceUsage, read in one pass over the cluster (a list asks this
	// rather than NamespaceUsage per namespace, and shows nothing else). The capacities are left
	// out: a namespace without a limit has its entitlement as capacity, which takes the resource
	// model run on the whole cluster. The figures are kept until the inventory changes, so asking
	// again is cheap.
	NamespaceConsumption(ctx context.Context, cluster string) (NamespaceFigures, error)
}

// NamespaceFigures are the consumption figures of a cluster's namespaces, read together.
type NamespaceFigures struct {
	// Read identifies the reading: two answers with the same Read carry the same figures, so what
	// was derived from the first (an encoded list) can be reused. Zero for a cluster without
	// figures (its Supervisor has no Namespaces pool yet).
	Read uint64
	// ByName has the used figures of each namespace with a pool (its capacities are zero); it is
	// shared and read-only.
	ByName map[string]Usage
}

// NamespaceConfig is the namespace configuration a self-service template gives every namespace made
// from it. Each member is the JSON of the namespaces API's own type, nil when absent, so that the
// namespaces family alone defines, checks and interprets it; the selfservice family stores and
// reports it as it is.
type NamespaceConfig struct {
	ResourceSpec     json.RawMessage `json:"resource_spec,omitempty"`     // namespaces.ResourceQuotaOptionsV1
	StorageSpecs     json.RawMessage `json:"storage_specs,omitempty"`     // List<namespaces.Instances.StorageSpec>
	Networks         json.RawMessage `json:"networks,omitempty"`          // List<ID>
	VMServiceSpec    json.RawMessage `json:"vm_service_spec,omitempty"`   // namespaces.Instances.VMServiceSpec
	ContentLibraries json.RawMessage `json:"content_libraries,omitempty"` // List<namespaces.Instances.ContentLibrarySpec>
}

// NamespaceConfigs is offered by the namespaces family (issue 5).
type NamespaceConfigs interface {
	// CheckConfig decodes cfg as strictly as a namespace's own fields and checks it the same way,
	// including that the storage policies, VM classes and content libraries it names exist. path is
	// where the fields sit in the request ("spec"); failures are one INVALID_ARGUMENT naming each field
	// below it. It returns the configuration in the canonical form get should report.
	CheckConfig(ctx context.Context, path string, cfg NamespaceConfig) (NamespaceConfig, error)
	// SubjectProblem says why a user or group (subjectType USER or GROUP) cannot be given access to a
	// namespace, "" when it can: it must exist in the identity source.
	SubjectProblem(subjectType, domain, subject string) string
}

// SelfServiceGrant says that a user may create namespaces on Cluster through self-service, from
// the cluster's template.
type SelfServiceGrant struct {
	Cluster  string
	Template string
	// Status is the cluster's self-service status (CONFIGURING or RUNNING): namespaces are created
	// only while it is RUNNING.
	Status string
	// Messages says what a CONFIGURING self-service is waiting for.
	Messages []string
	Config   NamespaceConfig
}

// SelfService is offered by the selfservice family (issue 5).
type SelfService interface {
	// Grants lists, sorted by cluster, the clusters where p may create namespaces through
	// self-service: self-service is activated there and its template's permissions name p or one of
	// p's groups.
	Grants(p auth.Principal) []SelfServiceGrant
}

// Kubernetes is offered by the Supervisor Kubernetes API family (issue 11, internal/kubeapi): the
// upstream kube-apiserver and controllers each RUNNING Supervisor gets.
type Kubernetes interface {
	// APIServer reports the Kubernetes API server of the Supervisor whose primary cluster is cluster;
	// false when wcpd runs no API server for it (none yet, or the Kubernetes side is turned off).
	APIServer(cluster string) (KubernetesAPIServer, bool)
	// NamespaceReleased reports whether nothing in the Supervisor's Kubernetes API holds on to the
	// vSphere Namespace any more (its Kubernetes Namespace is gone, or there is no API server), so
	// that the namespace's removal may finish.
	NamespaceReleased(cluster, namespace string) bool
	// ApplyWorkloads applies Kubernetes objects (one YAML or JSON document each, or a List) to the
	// Supervisor's API server by server-side apply under the field manager owner; namespaced ones
	// that name no namespace go into namespace. It answers what it applied, in order; an error
	// when the API server is not ready or an object is refused.
	ApplyWorkloads(ctx context.Context, cluster, namespace, owner string, docs [][]byte) ([]ObjectRef, error)
	// DeleteWorkloads deletes the objects; those already gone are not an error.
	DeleteWorkloads(ctx context.Context, cluster string, refs []ObjectRef) error
	// WorkloadsReady says whether the objects are ready (CRDs established, workloads' replicas
	// ready, Jobs complete), and when not, why.
	WorkloadsReady(ctx context.Context, cluster string, refs []ObjectRef) (ready bool, reason string, err error)
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"api_version"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// KubernetesAPIServer is the state of one Supervisor's Kubernetes API server.
type KubernetesAPIServer struct {
	// Endpoint is the URL clients on this machine reach it at, e.g. https://127.0.0.1:6443.
	Endpoint string
	// CA is the PEM certificate of the Supervisor's own certificate authority, which signed the
	// API server's serving certificate.
	CA []byte
	// Ready is true once the API server answers /readyz and wcpd's objects are installed in it.
	Ready bool
	// Problem says why it is not ready ("" while it is starting normally).
	Problem string
}

// NamespaceRealisation is what the Kubernetes side needs of a vSphere Namespace to realise it.
type NamespaceRealisation struct {
	Name    string
	Cluster string // primary cluster of its Supervisor
	// Removing is set once the namespace is being deleted.
	Removing bool
	// Quota holds the limits of the namespace's resource_spec that are set, under their wire names
	// (cpu_limit in MHz, memory_limit in MiB, pod_count, ...).
	Quota map[string]int64
	// Access lists the namespace's access entries.
	Access []NamespaceAccess
	// Storage lists the namespace's storage policies with their limits (MiB, nil for none).
	Storage []NamespaceStorage
	// VMClasses and ContentLibraries are the VM Service's classes and the libraries (VM Service and
	// VM Image Service) associated with the namespace.
	VMClasses        []string
	ContentLibraries []string
	// WritableLibraries are the libraries among them DevOps users may publish to.
	WritableLibraries []string
	// NetworkCIDRs are the namespace's own network (namespace_network_cidrs of its NSX network
	// override), in CIDR notation; empty when it uses its Supervisor's.
	NetworkCIDRs []string
}

// NamespaceAccess is one access entry of a namespace.
type NamespaceAccess struct {
	SubjectType string // USER or GROUP
	Subject     string
	Domain      string
	Role        string // VIEW, EDIT or OWNER
}

// NamespaceStorage is one storage policy of a namespace.
type NamespaceStorage struct {
	Policy   string
	LimitMiB *int64
}
