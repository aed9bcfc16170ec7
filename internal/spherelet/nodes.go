package spherelet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/wcpd/wcpd/internal/inventory"
	"github.com/wcpd/wcpd/internal/platform"
)

// Labels of a node. HostLabel names the host's MoRef id and marks the nodes the Spherelets own.
const (
	HostLabel     = "vsphere.wcpd.io/host"
	AgentRole     = "node-role.kubernetes.io/agent"
	ZoneLabel     = corev1.LabelTopologyZone
	HostnameLabel = corev1.LabelHostname
)

// MaxPodsPerNode is the pods capacity a node reports (vSphere's maximum of vSphere Pods per host).
const MaxPodsPerNode = 1000

// leaseSeconds is the duration the nodes' leases declare; they are renewed every resync.
const leaseSeconds = 40

// nodeAddress is the address the nodes report: every Spherelet's kubelet API is wcpd's, on this
// machine.
const nodeAddress = "127.0.0.1"

// KubeletVersion is the version the nodes report: the Kubernetes release of the control plane,
// marked as a Spherelet as a Supervisor marks it.
const KubeletVersion = "v1.37.2-sph-wcpd"

// syncNodes makes the nodes match the hosts of the Supervisor's cluster — one node per host,
// Ready while the host is connected and out of maintenance mode, unschedulable in maintenance
// mode — removes the nodes of hosts that left, and renews every node's lease.
func (c *Controller) syncNodes(ctx context.Context, s *supervisor) error {
	cl, err := c.inv.Cluster(ctx, s.cluster)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil // the cluster went; the Supervisor goes with it
	}
	if err != nil {
		return err
	}
	zone := platform.ImplicitZone(s.cluster)
	if c.fams != nil && c.fams.Zones != nil {
		zone = c.fams.Zones.ZoneOf(s.cluster)
	}
	hosts := map[string]string{}
	var errs []error
	for _, h := range cl.Hosts {
		hosts[NodeName(h)] = h.ID
		if err := c.syncNode(ctx, s, h, zone); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", NodeName(h), err))
		}
	}
	s.mu.Lock()
	s.hostOfNode = hosts
	s.mu.Unlock()
	owned, err := s.nodes.List(labels.SelectorFromSet(nil))
	if err != nil {
		return err
	}
	for _, n := range owned {
		if _, mine := n.Labels[HostLabel]; mine && hosts[n.Name] == "" {
			err := s.kube.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("removing node %s of a host that left: %w", n.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// hostOf is the host MoRef id of a node of the Supervisor; "" when the node is not one of its
// hosts.
func (s *supervisor) hostOf(node string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostOfNode[node]
}

// syncNode creates or updates the node of host h, then its status and lease.
func (c *Controller) syncNode(ctx context.Context, s *supervisor, h inventory.Host, zone string) error {
	nodes := s.kube.CoreV1().Nodes()
	want := c.desiredNode(h, zone)
	name := NodeName(h)
	have, err := s.nodes.Get(name)
	switch {
	case apierrors.IsNotFound(err):
		if have, err = nodes.Create(ctx, want, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
			have, err = nodes.Get(ctx, name, metav1.GetOptions{})
		}
		if err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if !labelsInclude(have.Labels, want.Labels) || have.Spec.Unschedulable != want.Spec.Unschedulable {
		upd := have.DeepCopy()
		if upd.Labels == nil {
			upd.Labels = map[string]string{}
		}
		maps.Copy(upd.Labels, want.Labels)
		upd.Spec.Unschedulable = want.Spec.Unschedulable
		if have, err = nodes.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if status := mergeNodeStatus(have.Status, want.Status); status != nil {
		upd := have.DeepCopy()
		upd.Status = *status
		if _, err := nodes.UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return c.renewLease(ctx, s, have)
}

// NodeName is the name of host h's node: the host's name, as on a Supervisor, in the form a node
// name must have (lower case; a character a DNS name cannot hold becomes '-'). A host named
// "ESX_01.lab" is the node "esx-01.lab".
func NodeName(h inventory.Host) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return '-'
	}, h.Name)
	name = strings.Trim(name, "-.")
	if len(name) > 253 {
		name = strings.Trim(name[:253], "-.")
	}
	if name == "" || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return h.ID // the MoRef id is a valid name whatever the host is called
	}
	return name
}

// desiredNode is what the node of host h should say.
func (c *Controller) desiredNode(h inventory.Host, zone string) *corev1.Node {
	ready, reason, message := corev1.ConditionTrue, "SphereletReady", "the Spherelet is posting ready status"
	switch {
	case !h.Connected:
		ready, reason, message = corev1.ConditionFalse, "HostDisconnected", fmt.Sprintf("host %s is not connected to vCenter", h.ID)
	case h.MaintenanceMode:
		ready, reason, message = corev1.ConditionFalse, "HostInMaintenanceMode", fmt.Sprintf("host %s is in maintenance mode", h.ID)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(h.CPUCores), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(h.MemoryBytes, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(MaxPodsPerNode, resource.DecimalSI),
	}
	now := metav1.Now()
	cond := func(t corev1.NodeConditionType, st corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: NodeName(h), Labels: map[string]string{
			HostLabel: h.ID, HostnameLabel: NodeName(h), ZoneLabel: zone, AgentRole: "",
			corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
		}},
		Spec: corev1.NodeSpec{Unschedulable: h.MaintenanceMode},
		Status: corev1.NodeStatus{
			Capacity: capacity, Allocatable: capacity.DeepCopy(),
			Conditions: []corev1.NodeCondition{
				cond(corev1.NodeReady, ready, reason, message),
				cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "SphereletHasSufficientMemory", "the host has memory available"),
				cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "SphereletHasNoDiskPressure", "the host has no disk pressure"),
				cond(corev1.NodePIDPressure, corev1.ConditionFalse, "SphereletHasSufficientPID", "the host has process ids available"),
			},
			Addresses:       []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeAddress}},
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(c.kubeletPort)}},
			NodeInfo: corev1.NodeSystemInfo{
				MachineID: h.ID, SystemUUID: h.ID, BootID: h.ID,
				KernelVersion: "VMkernel", OSImage: "VMware ESXi (wcpd)", OperatingSystem: "linux", Architecture: "amd64",
				ContainerRuntimeVersion: "crx://simulated", KubeletVersion: KubeletVersion,
			},
		},
	}
}

// mergeNodeStatus is the status to write so that have says what want says, keeping the times of
// conditions that did not change; nil when nothing but heartbeats would change (the lease carries
// the heartbeat).
func mergeNodeStatus(have, want corev1.NodeStatus) *corev1.NodeStatus {
	changed := !equalResources(have.Capacity, want.Capacity) || !equalResources(have.Allocatable, want.Allocatable) ||
		len(have.Addresses) != len(want.Addresses) || have.DaemonEndpoints != want.DaemonEndpoints || have.NodeInfo != want.NodeInfo
	if !changed {
		for i := range have.Addresses {
			changed = changed || have.Addresses[i] != want.Addresses[i]
		}
	}
	out := want.DeepCopy()
	for i, w := range out.Conditions {
		var old *corev1.NodeCondition
		for j := range have.Conditions {
			if have.Conditions[j].Type == w.Type {
				old = &have.Conditions[j]
			}
		}
		switch {
		case old == nil || old.Status != w.Status || old.Reason != w.Reason || old.Message != w.Message:
			changed = true
		default:
			out.Conditions[i].LastTransitionTime = old.LastTransitionTime
			out.Conditions[i].LastHeartbeatTime = old.LastHeartbeatTime
		}
	}
	if !changed {
		return nil
	}
	return out
}

func equalResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}

func labelsInclude(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// renewLease renews the node's lease in kube-node-lease, as a kubelet does: the node controller
// takes a node whose lease stops being renewed as unreachable.
func (c *Controller) renewLease(ctx context.Context, s *supervisor, node *corev1.Node) error {
	leases := s.kube.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		holder, duration := node.Name, int32(leaseSeconds)
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: node.Name, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, RenewTime: &now},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // renewed at the next resync
		}
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}
