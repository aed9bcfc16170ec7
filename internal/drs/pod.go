package drs

import "fmt"

// vSphere Pod sizing (seed 003): a container brings no virtual hardware, so
// vSphere sizes the pod's VM from its containers' requests and limits.

const (
	// PodDefaultContainerMillicores and PodDefaultContainerMemoryMB are the
	// size a container gets when neither its request nor its limit is larger:
	// a one-container BestEffort pod is 1 vCPU / 512 MB.
	PodDefaultContainerMillicores = 1000
	PodDefaultContainerMemoryMB   = 512
	// PodMemoryPaddingMB is added to a pod's memory when its containers ask
	// for more than the defaults, for the agents that run in every pod
	// (lifecycle, configuration, the link to the vSpherelet). Seed 003 only
	// says "a little padding"; 64 MB is wcpd's choice. CPU gets no padding:
	// it is rounded up to whole vCPUs, which already leaves headroom, and a
	// padding would cost a whole extra vCPU.
	PodMemoryPaddingMB = 64
)

const mib = 1 << 20

// podSpec is what a pod's containers say, in millicores and bytes.
type podSpec struct {
	qos  QoSClass
	size Size
	// Requests default to limits, as in Kubernetes.
	requestMillicores, requestBytes int64
	// Limits are set only when every container has one.
	limitMillicores, limitBytes int64
	hasCPULimit, hasMemoryLimit bool
}

// PodSize returns a vSphere Pod's QoS class and size. Each container counts
// as the largest of the default (1 vCPU / 512 MB), its request and its
// limit; the pod is the sum over its containers, with CPU rounded up to whole
// vCPUs and PodMemoryPaddingMB added when a container asks for more memory
// than the default. A bad quantity is a *FieldError naming
// "containers[i].requests.cpu" and the like.
func PodSize(containers []Container) (QoSClass, Size, error) {
	var c collector
	spec := sizePod(&c, nil, containers)
	if err := c.err(); err != nil {
		return "", Size{}, c.errs[0]
	}
	return spec.qos, spec.size, nil
}

// PodAllocation is what a vSphere Pod's VM is given, from its containers: the size PodSize
// gives, a reservation of the containers' requests and a limit of their limits (with the memory
// padding), the CPU in MHz at cpuMHzPerVCPU a vCPU. The spherelet configures pod VMs with it and
// the resource model analyses pods with it, so a pod VM in the inventory and the same pod in a
// what-if tree come out alike.
type PodAllocation struct {
	QoS  QoSClass
	Size Size
	// ReservationMHz and ReservationMB are 0 when no container requests any.
	ReservationMHz, ReservationMB int64
	// LimitMHz and LimitMB are -1 (unlimited) unless every container has a limit.
	LimitMHz, LimitMB int64
	// CPUShares and MemoryShares are those of the NORMAL level for the size: a BestEffort pod's
	// 1 vCPU / 512 MB has 1000 and 5120.
	CPUShares, MemoryShares int64
}

// AllocatePod returns the allocation of a pod of containers; a bad quantity is a FieldErrors
// naming every bad field ("containers[i].requests.cpu" and the like).
func AllocatePod(containers []Container, cpuMHzPerVCPU int64) (PodAllocation, error) {
	if cpuMHzPerVCPU <= 0 {
		cpuMHzPerVCPU = DefaultCPUMHzPerVCPU
	}
	var c collector
	a := sizePod(&c, nil, containers).allocation(cpuMHzPerVCPU)
	if err := c.err(); err != nil {
		return PodAllocation{}, err
	}
	return a, nil
}

// allocation turns what the containers say into the VM's size, reservation and limit.
func (spec podSpec) allocation(cpuMHz int64) PodAllocation {
	a := PodAllocation{QoS: spec.qos, Size: spec.size,
		ReservationMHz: ceilDiv(spec.requestMillicores*cpuMHz, 1000), ReservationMB: ceilDiv(spec.requestBytes, mib),
		LimitMHz: -1, LimitMB: -1}
	a.CPUShares, a.MemoryShares = LevelShares(LevelNormal, spec.size)
	if spec.hasCPULimit {
		a.LimitMHz = ceilDiv(spec.limitMillicores*cpuMHz, 1000)
	}
	if spec.hasMemoryLimit {
		a.LimitMB = ceilDiv(spec.limitBytes, mib) + PodMemoryPaddingMB
	}
	return a
}

// container quantities after parsing; -1 means not set.
type containerQuantities struct {
	reqCPU, limCPU, reqMem, limMem int64
}

// sizePod sizes the pod at path (nil when it stands alone).
func sizePod(c *collector, path fieldPath, containers []Container) podSpec {
	if len(containers) == 0 {
		c.add(path, "containers", nil, "a pod needs at least one container")
		return podSpec{}
	}
	if len(containers) > MaxContainers {
		c.add(path, "containers", nil, "a pod may have at most %d containers, not %d", MaxContainers, len(containers))
		return podSpec{}
	}
	var spec podSpec
	var sizeMillicores, sizeBytes int64
	memoryAboveDefault := false
	anyRequestOrLimit := false
	allHaveBothLimits := true
	spec.hasCPULimit, spec.hasMemoryLimit = true, true
	var requestCPUForQoS, requestMemForQoS int64

	for i, ctr := range containers {
		q := parseContainer(c, path, i, ctr)

		// Kubernetes defaults a missing request to the limit.
		if q.reqCPU < 0 {
			q.reqCPU = q.limCPU
		}
		if q.reqMem < 0 {
			q.reqMem = q.limMem
		}
		if q.reqCPU > 0 || q.limCPU > 0 || q.reqMem > 0 || q.limMem > 0 {
			anyRequestOrLimit = true
		}
		// Kubernetes ignores zero quantities when it classifies.
		if q.limCPU <= 0 || q.limMem <= 0 {
			allHaveBothLimits = false
		}
		requestCPUForQoS += max(q.reqCPU, 0)
		requestMemForQoS += max(q.reqMem, 0)

		sizeMillicores += max(PodDefaultContainerMillicores, q.reqCPU, q.limCPU)
		defaultBytes := int64(PodDefaultContainerMemoryMB) * mib
		if q.reqMem > defaultBytes || q.limMem > defaultBytes {
			memoryAboveDefault = true
		}
		sizeBytes += max(defaultBytes, q.reqMem, q.limMem)

		spec.requestMillicores += max(q.reqCPU, 0)
		spec.requestBytes += max(q.reqMem, 0)
		if q.limCPU < 0 {
			spec.hasCPULimit = false
		} else {
			spec.limitMillicores += q.limCPU
		}
		if q.limMem < 0 {
			spec.hasMemoryLimit = false
		} else {
			spec.limitBytes += q.limMem
		}
	}

	switch {
	case !anyRequestOrLimit:
		spec.qos = QoSBestEffort
	case allHaveBothLimits && requestCPUForQoS == spec.limitMillicores && requestMemForQoS == spec.limitBytes:
		spec.qos = QoSGuaranteed
	default:
		spec.qos = QoSBurstable
	}

	cpus := ceilDiv(sizeMillicores, 1000)
	memoryMB := ceilDiv(sizeBytes, mib)
	if memoryAboveDefault {
		memoryMB += PodMemoryPaddingMB
	}
	if cpus > MaxVCPUs {
		c.add(path, "containers", nil, "the containers add up to %d vCPUs, more than the %d a pod can have", cpus, MaxVCPUs)
		cpus = MaxVCPUs
	}
	if memoryMB > MaxMemoryMB {
		c.add(path, "containers", nil, "the containers add up to %d MB, more than the %d MB a pod can have", memoryMB, int64(MaxMemoryMB))
		memoryMB = MaxMemoryMB
	}
	spec.size = Size{CPUCount: int(cpus), MemoryMB: memoryMB}
	return spec
}

func parseContainer(c *collector, path fieldPath, i int, ctr Container) containerQuantities {
	const mostMillicores, mostBytes = MaxVCPUs * 1000, MaxMemoryMB * mib
	field := func(name string) string { return fmt.Sprintf("containers[%d].%s", i, name) }
	q := containerQuantities{
		reqCPU: parseField(c, path, field, "requests.cpu", ctr.Requests.CPU, ParseCPUMillicores, mostMillicores),
		limCPU: parseField(c, path, field, "limits.cpu", ctr.Limits.CPU, ParseCPUMillicores, mostMillicores),
		reqMem: parseField(c, path, field, "requests.memory", ctr.Requests.Memory, ParseMemoryBytes, mostBytes),
		limMem: parseField(c, path, field, "limits.memory", ctr.Limits.Memory, ParseMemoryBytes, mostBytes),
	}
	if q.reqCPU >= 0 && q.limCPU >= 0 && q.reqCPU > q.limCPU {
		c.add(path, field("requests.cpu"), string(ctr.Requests.CPU), "must not exceed the limit %s", ctr.Limits.CPU)
	}
	if q.reqMem >= 0 && q.limMem >= 0 && q.reqMem > q.limMem {
		c.add(path, field("requests.memory"), string(ctr.Requests.Memory), "must not exceed the limit %s", ctr.Limits.Memory)
	}
	return q
}

// parseField returns -1 for an absent or invalid quantity (the error is
// collected). No container can ask for more than a whole pod may have.
func parseField(c *collector, path fieldPath, field func(string) string, name string, q Quantity,
	parse func(string) (int64, error), most int64) int64 {
	if q == "" {
		return -1
	}
	v, err := parse(string(q))
	if err != nil {
		c.add(path, field(name), string(q), "%v", err)
		return -1
	}
	if v > most {
		c.add(path, field(name), string(q), "more than a pod can have")
		return -1
	}
	return v
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
