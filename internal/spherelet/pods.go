package spherelet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8stypes "k8s.io/apimachinery/pkg/types"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/drs"
	"github.com/wcpd/wcpd/internal/inventory"
)

// PodGuestID is the guest OS of a pod VM: a CRX, the container runtime VM of vSphere Pods.
const PodGuestID = string(types.VirtualMachineGuestOsIdentifierCrxPod1Guest)

// The pod VM's extraConfig names its pod: the Supervisor, the pod's namespace, name and UID. The
// UID tells a pod VM from another pod's of the same name (one deleted while wcpd was down).
const (
	extraCluster   = "wcpd.pod.cluster"
	extraNamespace = "wcpd.pod.namespace"
	extraName      = "wcpd.pod.name"
	extraUID       = "wcpd.pod.uid"
)

// Reasons a pod's status gives.
const (
	ReasonPodVMLost     = "PodVMLost"
	ReasonPodVMTooLarge = "PodVMTooLarge"
	ReasonNameTaken     = "PodVMNameTaken"
)

// defaultPodNetwork is where pod addresses come from when neither the namespace (its NSX network
// override's namespace_network_cidrs) nor the Supervisor (its NSX pod_cidrs) names a pod network,
// as with vSphere networking. What is in use is read from the pods' statuses.
var defaultPodNetwork = netip.MustParsePrefix("10.244.0.0/16")

// recentFor is how long an address handed out counts as taken whatever the pod cache says: far
// longer than a status write takes to reach it.
const recentFor = time.Minute

// reconcilePod realises one pod of a Supervisor: a pod bound to one of its nodes gets its pod VM
// and a Running status; a pod being deleted loses its VM and is then removed, as a kubelet
// removes it; a Running pod whose VM is gone fails as on a lost node.
func (c *Controller) reconcilePod(ctx context.Context, s *supervisor, namespace, name string) (controller.Result, error) {
	pod, err := s.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil // a pod VM left behind goes at the next sweep
	}
	if err != nil {
		return controller.Result{}, err
	}
	host := s.hostOf(pod.Spec.NodeName)
	if host == "" {
		if pod.Spec.NodeName != "" {
			return controller.Result{RequeueAfter: resync}, nil // nodes not synced yet
		}
		return controller.Result{}, nil
	}
	vm, found, err := c.findPodVM(ctx, s, pod)
	if err != nil {
		return controller.Result{}, err
	}
	if pod.DeletionTimestamp != nil {
		if found {
			if err := c.destroy(ctx, vm); err != nil {
				return controller.Result{}, err
			}
			s.forget(pod.UID)
		}
		// The kubelet's last word: the pod's containers are gone, remove the object.
		err := s.kube.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return controller.Result{}, err
		}
		return controller.Result{}, nil
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return controller.Result{}, nil
	}
	if !found {
		if pod.Status.Phase == corev1.PodRunning {
			return controller.Result{}, c.fail(ctx, s, pod, ReasonPodVMLost,
				"the pod's VM was removed from the inventory; the pod is lost, as on a node that went away")
		}
		var reason, msg string
		if vm, reason, msg, err = c.createPodVM(ctx, s, pod, host); err != nil {
			return controller.Result{}, err
		}
		if reason != "" {
			return controller.Result{}, c.fail(ctx, s, pod, reason, msg)
		}
	}
	return controller.Result{}, c.reportRunning(ctx, s, pod, vm)
}

// findPodVM finds the pod's VM: the one remembered, else the VM of the pod's name in the
// namespace's folder that names the pod's UID (one made before a crash).
func (c *Controller) findPodVM(ctx context.Context, s *supervisor, pod *corev1.Pod) (types.ManagedObjectReference, bool, error) {
	vc := c.inv.Client()
	if id := s.remembered(pod.UID); id != "" {
		exists, err := c.inv.VMExists(ctx, id)
		if err != nil || exists {
			return types.ManagedObjectReference{Type: "VirtualMachine", Value: id}, exists, err
		}
		s.forget(pod.UID)
		return types.ManagedObjectReference{}, false, nil
	}
	folder, found, err := c.podFolder(ctx, s, pod.Namespace, false)
	if err != nil || !found {
		return types.ManagedObjectReference{}, false, err
	}
	child, err := object.NewSearchIndex(vc).FindChild(ctx, folder, pod.Name)
	if err != nil || child == nil || child.Reference().Type != "VirtualMachine" {
		return types.ManagedObjectReference{}, false, err
	}
	var m mo.VirtualMachine
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, child.Reference(), []string{"config.extraConfig"}, &m); err != nil {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return types.ManagedObjectReference{}, false, nil
		}
		return types.ManagedObjectReference{}, false, err
	}
	if m.Config == nil || extraValue(m.Config.ExtraConfig, extraUID) != string(pod.UID) {
		return types.ManagedObjectReference{}, false, nil
	}
	s.remember(pod, child.Reference().Value)
	return child.Reference(), true, nil
}

// podFolder is the namespace's VM folder, Namespaces/<namespace>, where VM Service's VMs are too.
func (c *Controller) podFolder(ctx context.Context, s *supervisor, namespace string, create bool) (*object.Folder, bool, error) {
	cl, err := c.inv.Cluster(ctx, s.cluster)
	if err != nil {
		return nil, false, err
	}
	return c.inv.VMFolder(ctx, cl.Datacenter, create, inventory.NamespacesFolder, namespace)
}

// allocation is what the pod's containers give its VM, by the resource model's rules; the CPU is
// turned into MHz at the speed of the cluster's slowest usable core, as the live analysis does.
func (c *Controller) allocation(ctx context.Context, cluster string, pod *corev1.Pod) (drs.PodAllocation, error) {
	cl, err := c.inv.Cluster(ctx, cluster)
	if err != nil {
		return drs.PodAllocation{}, err
	}
	return drs.AllocatePod(containers(pod), cl.SlowestCoreMHz())
}

// containers are the pod's containers as the resource model reads them. Init containers run
// before the others and do not add to the pod's size.
func containers(pod *corev1.Pod) []drs.Container {
	out := make([]drs.Container, 0, len(pod.Spec.Containers))
	for _, ctr := range pod.Spec.Containers {
		q := func(l corev1.ResourceList, name corev1.ResourceName) drs.Quantity {
			if v, ok := l[name]; ok {
				return drs.Quantity(v.String())
			}
			return ""
		}
		r := ctr.Resources
		out = append(out, drs.Container{Name: ctr.Name,
			Requests: drs.Resources{CPU: q(r.Requests, corev1.ResourceCPU), Memory: q(r.Requests, corev1.ResourceMemory)},
			Limits:   drs.Resources{CPU: q(r.Limits, corev1.ResourceCPU), Memory: q(r.Limits, corev1.ResourceMemory)},
		})
	}
	return out
}

// createPodVM makes and powers on the pod's VM on host, in the namespace's resource pool (the
// Supervisor's Namespaces pool for a namespace that has none, such as a service's system
// namespace) and folder. A pod that cannot have a VM gets a reason and message instead.
func (c *Controller) createPodVM(ctx context.Context, s *supervisor, pod *corev1.Pod, host string) (ref types.ManagedObjectReference, reason, msg string, err error) {
	alloc, err := c.allocation(ctx, s.cluster, pod)
	if err != nil {
		var fes drs.FieldErrors
		if errors.As(err, &fes) {
			return ref, ReasonPodVMTooLarge, fmt.Sprintf("the pod cannot be a pod VM: %v", err), nil
		}
		return ref, "", "", err
	}
	sup, ok := c.fams.Supervisors.Supervisor(s.cluster)
	if !ok || sup.NamespacesPool == "" {
		return ref, "", "", errors.New("the Supervisor has no Namespaces resource pool yet")
	}
	pool, found, err := c.inv.ChildPool(ctx, sup.NamespacesPool, pod.Namespace)
	if err != nil {
		return ref, "", "", err
	}
	if !found {
		pool = types.ManagedObjectReference{Type: "ResourcePool", Value: sup.NamespacesPool}
	}
	folder, _, err := c.podFolder(ctx, s, pod.Namespace, true)
	if err != nil {
		return ref, "", "", err
	}
	vc := c.inv.Client()
	hostRef := types.ManagedObjectReference{Type: "HostSystem", Value: host}
	var h mo.HostSystem
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, hostRef, []string{"datastore"}, &h); err != nil {
		return ref, "", "", fmt.Errorf("reading host %s: %w", host, err)
	}
	if len(h.Datastore) == 0 {
		return ref, "", "", fmt.Errorf("host %s has no datastore for pod VMs", host)
	}
	var ds mo.Datastore
	if err := property.DefaultCollector(vc).RetrieveOne(ctx, h.Datastore[0], []string{"name"}, &ds); err != nil {
		return ref, "", "", err
	}
	spec := podVMSpec(s.cluster, pod, alloc, ds.Name)
	task, err := folder.CreateVM(ctx, spec, object.NewResourcePool(vc, pool), object.NewHostSystem(vc, hostRef))
	if err != nil {
		return ref, "", "", err
	}
	res, err := task.WaitForResult(ctx)
	if fault.Is(err, &types.DuplicateName{}) {
		return ref, ReasonNameTaken, fmt.Sprintf("a VM named %s that is not this pod's is in the folder of namespace %s", pod.Name, pod.Namespace), nil
	}
	if err != nil {
		return ref, "", "", fmt.Errorf("creating the pod VM: %w", err)
	}
	ref = res.Result.(types.ManagedObjectReference)
	s.remember(pod, ref.Value)
	on, err := object.NewVirtualMachine(vc, ref).PowerOn(ctx)
	if err == nil {
		err = on.Wait(ctx)
	}
	if err != nil && !fault.Is(err, &types.InvalidPowerState{}) {
		return ref, "", "", fmt.Errorf("powering on the pod VM %s: %w", ref.Value, err)
	}
	c.log.Info("pod VM created", "cluster", s.cluster, "namespace", pod.Namespace, "pod", pod.Name, "vm", ref.Value,
		"host", host, "qos", alloc.QoS, "cpus", alloc.Size.CPUCount, "memory_mb", alloc.Size.MemoryMB)
	return ref, "", "", nil
}

// podVMSpec is the pod VM's configuration: its size, NORMAL shares with the values vSphere gives
// that level for the size, the reservation and limit of the pod's allocation, and the extraConfig naming the pod.
func podVMSpec(cluster string, pod *corev1.Pod, a drs.PodAllocation, datastore string) types.VirtualMachineConfigSpec {
	shares := func(n int64) *types.SharesInfo {
		return &types.SharesInfo{Level: types.SharesLevelNormal, Shares: int32(n)}
	}
	return types.VirtualMachineConfigSpec{
		Name:     pod.Name,
		GuestId:  PodGuestID,
		NumCPUs:  int32(a.Size.CPUCount),
		MemoryMB: a.Size.MemoryMB,
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + datastore + "]"},
		CpuAllocation: &types.ResourceAllocationInfo{
			Shares: shares(a.CPUShares), Reservation: types.NewInt64(a.ReservationMHz), Limit: types.NewInt64(a.LimitMHz)},
		MemoryAllocation: &types.ResourceAllocationInfo{
			Shares: shares(a.MemoryShares), Reservation: types.NewInt64(a.ReservationMB), Limit: types.NewInt64(a.LimitMB)},
		ExtraConfig: []types.BaseOptionValue{
			&types.OptionValue{Key: extraCluster, Value: cluster},
			&types.OptionValue{Key: extraNamespace, Value: pod.Namespace},
			&types.OptionValue{Key: extraName, Value: pod.Name},
			&types.OptionValue{Key: extraUID, Value: string(pod.UID)},
		},
	}
}

// destroy powers the VM off and removes it; one already gone is not an error.
func (c *Controller) destroy(ctx context.Context, ref types.ManagedObjectReference) error {
	vm := object.NewVirtualMachine(c.inv.Client(), ref)
	off, err := vm.PowerOff(ctx)
	if err == nil {
		err = off.Wait(ctx)
	}
	if err != nil && !fault.Is(err, &types.InvalidPowerState{}) {
		if fault.Is(err, &types.ManagedObjectNotFound{}) {
			return nil
		}
		return fmt.Errorf("powering off pod VM %s: %w", ref.Value, err)
	}
	task, err := vm.Destroy(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil && !fault.Is(err, &types.ManagedObjectNotFound{}) {
		return fmt.Errorf("removing pod VM %s: %w", ref.Value, err)
	}
	return nil
}

// reportRunning writes the status of a pod whose VM runs: Running, with an address, every
// condition true and every container running (init containers completed). The containers are
// not executed; their state is the simulated runtime's.
func (c *Controller) reportRunning(ctx context.Context, s *supervisor, pod *corev1.Pod, vm types.ManagedObjectReference) error {
	if pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" && len(pod.Status.ContainerStatuses) == len(pod.Spec.Containers) {
		return nil
	}
	ip, err := c.podIP(s, pod)
	if err != nil {
		return err
	}
	now := metav1.Now()
	st := pod.Status.DeepCopy()
	st.Phase = corev1.PodRunning
	st.Reason, st.Message = "", ""
	st.HostIP, st.HostIPs = nodeAddress, []corev1.HostIP{{IP: nodeAddress}}
	st.PodIP, st.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	for _, t := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized,
		corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		setPodCondition(st, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	started := true
	st.InitContainerStatuses = nil
	for _, ctr := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, ContainerID: containerID(vm, ctr.Name), Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed",
				StartedAt: *st.StartTime, FinishedAt: *st.StartTime, ContainerID: containerID(vm, ctr.Name)}},
		})
	}
	st.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, ImageID: ctr.Image, ContainerID: containerID(vm, ctr.Name),
			Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: *st.StartTime}},
		})
	}
	return c.writeStatus(ctx, s, pod, st)
}

// fail ends a pod: Failed, with the reason, every container terminated.
func (c *Controller) fail(ctx context.Context, s *supervisor, pod *corev1.Pod, reason, message string) error {
	now := metav1.Now()
	st := pod.Status.DeepCopy()
	st.Phase, st.Reason, st.Message = corev1.PodFailed, reason, message
	for _, t := range []corev1.PodConditionType{corev1.ContainersReady, corev1.PodReady} {
		setPodCondition(st, corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, LastTransitionTime: now})
	}
	st.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: reason,
				Message: message, FinishedAt: now}}})
	}
	c.log.Warn("pod failed", "cluster", s.cluster, "namespace", pod.Namespace, "pod", pod.Name, "reason", reason)
	return c.writeStatus(ctx, s, pod, st)
}

func (c *Controller) writeStatus(ctx context.Context, s *supervisor, pod *corev1.Pod, st *corev1.PodStatus) error {
	upd := pod.DeepCopy()
	upd.Status = *st
	_, err := s.kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // a newer pod, or none: its own event brings it round
	}
	return err
}

func containerID(vm types.ManagedObjectReference, name string) string {
	return "crx://" + vm.Value + "/" + name
}

// setPodCondition sets a condition, keeping its transition time when its status is unchanged.
func setPodCondition(st *corev1.PodStatus, cond corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == cond.Type {
			if st.Conditions[i].Status == cond.Status {
				cond.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = cond
			return
		}
	}
	st.Conditions = append(st.Conditions, cond)
}

// podNetworks are the networks the pods of namespace take their addresses from: the namespace's
// own, else its Supervisor's pod CIDRs, else defaultPodNetwork.
func (c *Controller) podNetworks(s *supervisor, namespace string) []netip.Prefix {
	parse := func(cidrs []string) []netip.Prefix {
		var out []netip.Prefix
		for _, cidr := range cidrs {
			if p, err := netip.ParsePrefix(cidr); err == nil && p.Addr().Is4() {
				out = append(out, p.Masked())
			}
		}
		return out
	}
	if ns := c.fams.Namespaces; ns != nil {
		if rz, ok := ns.Realisation(namespace); ok {
			if nets := parse(rz.NetworkCIDRs); len(nets) > 0 {
				return nets
			}
		}
	}
	if sup, ok := c.fams.Supervisors.Supervisor(s.cluster); ok {
		if nets := parse(sup.PodCIDRs); len(nets) > 0 {
			return nets
		}
	}
	return []netip.Prefix{defaultPodNetwork}
}

// podIP is the pod's address: the one it has, else the lowest free one of its networks (the
// network's first address, its gateway's next to it and its broadcast address excepted).
func (c *Controller) podIP(s *supervisor, pod *corev1.Pod) (string, error) {
	if pod.Status.PodIP != "" {
		return pod.Status.PodIP, nil
	}
	networks := c.podNetworks(s, pod.Namespace)
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	used := map[string]bool{}
	for _, p := range pods {
		if p.Status.PodIP != "" && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
			used[p.Status.PodIP] = true
		}
	}
	for ip, at := range s.recentIPs {
		if time.Since(at) > recentFor {
			delete(s.recentIPs, ip)
		} else {
			used[ip] = true
		}
	}
	for _, n := range networks {
		for a := n.Addr().Next().Next(); n.Contains(a) && n.Contains(a.Next()); a = a.Next() {
			if ip := a.String(); !used[ip] {
				s.recentIPs[ip] = time.Now()
				return ip, nil
			}
		}
	}
	return "", fmt.Errorf("every address of the pod networks %v is in use", networks)
}

func (s *supervisor) remembered(uid k8stypes.UID) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vmOfPod[string(uid)]
}

func (s *supervisor) remember(pod *corev1.Pod, vm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vmOfPod[string(pod.UID)] = vm
	s.podOfVM[vm] = pod.Namespace + "/" + pod.Name
}

func (s *supervisor) forget(uid k8stypes.UID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.podOfVM, s.vmOfPod[string(uid)])
	delete(s.vmOfPod, string(uid))
}

// podOf is "<namespace>/<name>" of the pod whose VM is vm, if it is one of the Supervisor's.
func (s *supervisor) podOf(vm string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.podOfVM[vm]
	return p, ok
}

func extraValue(opts []types.BaseOptionValue, key string) string {
	for _, o := range opts {
		if v := o.GetOptionValue(); v != nil && v.Key == key {
			if s, ok := v.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// sweep compares the Supervisor's pod VMs with its pods: a pod VM whose pod is gone (deleted while
// wcpd was down, or forcibly) is removed; a pod whose VM is gone is brought round, to fail.
func (c *Controller) sweep(ctx context.Context, s *supervisor) error {
	var vms []mo.VirtualMachine
	if err := c.inv.Retrieve(ctx, "VirtualMachine", []string{"config.guestId", "config.extraConfig"}, &vms); err != nil {
		return err
	}
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		return err
	}
	live := map[string]*corev1.Pod{}
	for _, p := range pods {
		live[string(p.UID)] = p
	}
	hasVM := map[string]bool{}
	var errs []error
	for _, vm := range vms {
		if vm.Config == nil || vm.Config.GuestId != PodGuestID || extraValue(vm.Config.ExtraConfig, extraCluster) != s.cluster {
			continue
		}
		uid := extraValue(vm.Config.ExtraConfig, extraUID)
		if _, ok := live[uid]; ok {
			hasVM[uid] = true
			continue
		}
		// Read again before removing: the pod may have been made since the list.
		if _, err := s.kube.CoreV1().Pods(extraValue(vm.Config.ExtraConfig, extraNamespace)).Get(ctx,
			extraValue(vm.Config.ExtraConfig, extraName), metav1.GetOptions{}); err == nil {
			continue
		} else if !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		c.log.Info("removing a pod VM whose pod is gone", "cluster", s.cluster, "vm", vm.Self.Value,
			"namespace", extraValue(vm.Config.ExtraConfig, extraNamespace), "pod", extraValue(vm.Config.ExtraConfig, extraName))
		if err := c.destroy(ctx, vm.Self); err != nil {
			errs = append(errs, err)
		}
	}
	for uid, p := range live {
		if p.Status.Phase == corev1.PodRunning && !hasVM[uid] && s.hostOf(p.Spec.NodeName) != "" {
			c.enqueue(podKey(s.cluster, p.Namespace, p.Name))
		}
	}
	return errors.Join(errs...)
}
