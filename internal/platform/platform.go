// Package platform owns what every API family shares: the dependencies a family is built from, the
// Family interface the server drives, and the contracts through which families read each other's
// state (a family never reaches into another's store records).
package platform

import (
	"context"
	"log/slog"
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
	// Controllers collects every family's controllers so the server runs them and tests can wait
	// until they are idle.
	Controllers *controller.Group
	// Families gives access to the other families' contracts; it is filled in before any Start.
	Families *Families
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
	// APIServerEndpoint is the Supervisor's Kubernetes API address (from the management range).
	APIServerEndpoint string
	// NamespacesPool is the MoRef id of the cluster's "Namespaces" resource pool once created.
	NamespacesPool    string
	KubernetesVersion string
	// Upgraded is set once the Supervisor has completed at least one upgrade.
	UpgradeCount int
}

// Supervisors is offered by the clusters family (issue 3).
type Supervisors interface {
	// Supervisor finds the Supervisor by cluster MoRef id or by Supervisor id.
	Supervisor(clusterOrID string) (SupervisorState, bool)
	// List returns every Supervisor, sorted by cluster.
	List() []SupervisorState
}

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
}

// VMClassState is what other families need to know about a VM class.
type VMClassState struct {
	ID           string
	CPUCount     int64
	MemoryMB     int64
	ConfigStatus string // READY, or REMOVING while VMs still use a deleted class
}

// VMClasses is offered by the vmclasses family (issue 5).
type VMClasses interface {
	VMClass(id string) (VMClassState, bool)
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
}
