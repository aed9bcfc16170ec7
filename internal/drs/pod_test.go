package drs

import (
	"errors"
	"testing"
)

func ctr(reqCPU, reqMem, limCPU, limMem Quantity) Container {
	return Container{Requests: Resources{CPU: reqCPU, Memory: reqMem}, Limits: Resources{CPU: limCPU, Memory: limMem}}
}

func TestPodSize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		containers []Container
		qos        QoSClass
		size       Size
	}{
		{"best effort, one container: the default", []Container{{}}, QoSBestEffort, Size{1, 512}},
		{"best effort, two containers: a default each", []Container{{}, {}}, QoSBestEffort, Size{2, 1024}},
		{"zero quantities count as unset", []Container{ctr("0", "0", "", "")}, QoSBestEffort, Size{1, 512}},
		{"500m rounds up to one vCPU (seed 003's cassandra)", []Container{ctr("500m", "1Gi", "500m", "1Gi")},
			QoSGuaranteed, Size{1, 1024 + PodMemoryPaddingMB}},
		{"small requests stay at the default, no padding", []Container{ctr("250m", "128Mi", "", "")},
			QoSBurstable, Size{1, 512}},
		{"limits above requests size the pod", []Container{ctr("1", "1Gi", "2", "2Gi"), ctr("1", "1Gi", "2", "2Gi")},
			QoSBurstable, Size{4, 4096 + PodMemoryPaddingMB}},
		{"requests above the default without limits", []Container{ctr("3", "3Gi", "", "")},
			QoSBurstable, Size{3, 3072 + PodMemoryPaddingMB}},
		{"limits alone: requests default to them", []Container{ctr("", "", "1.5", "768Mi")},
			QoSGuaranteed, Size{2, 768 + PodMemoryPaddingMB}},
		{"CPU summed before rounding up", []Container{ctr("1.2", "", "", ""), ctr("1.2", "", "", "")},
			QoSBurstable, Size{3, 1024}},
		{"each container is at least the default", []Container{ctr("500m", "", "500m", ""), ctr("500m", "", "500m", ""), ctr("500m", "", "500m", "")},
			QoSBurstable, Size{3, 1536}},
		{"guaranteed needs CPU and memory limits", []Container{ctr("1", "", "1", "")}, QoSBurstable, Size{1, 512}},
		{"one guaranteed and one best-effort container", []Container{ctr("1.5", "1Gi", "1.5", "1Gi"), {}},
			QoSBurstable, Size{3, 1536 + PodMemoryPaddingMB}},
		{"memory in decimal units rounds up to MB", []Container{ctr("", "1G", "", "1G")},
			QoSBurstable, Size{1, 954 + PodMemoryPaddingMB}},
		{"whole CPUs without memory", []Container{ctr("2", "", "2", "")}, QoSBurstable, Size{2, 512}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qos, size, err := PodSize(tc.containers)
			if err != nil {
				t.Fatal(err)
			}
			if qos != tc.qos || size != tc.size {
				t.Errorf("PodSize = %s %+v, want %s %+v", qos, size, tc.qos, tc.size)
			}
		})
	}
}

func TestPodSizeErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		containers []Container
		field      string
	}{
		{nil, "containers"},
		{[]Container{{}, ctr("2", "", "1", "")}, "containers[1].requests.cpu"},
		{[]Container{ctr("", "2Gi", "", "1Gi")}, "containers[0].requests.memory"},
		{[]Container{ctr("", "", "", "lots")}, "containers[0].limits.memory"},
		{[]Container{ctr("-1", "", "", "")}, "containers[0].requests.cpu"},
		{[]Container{ctr("5000", "", "", "")}, "containers[0].requests.cpu"},
	} {
		_, _, err := PodSize(tc.containers)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("PodSize(%+v) error = %v, want one naming %s", tc.containers, err, tc.field)
		}
	}
}

func TestPodReservationAndLimitComeFromContainers(t *testing.T) {
	res, err := Analyze(Request{
		Capacity: Capacity{CPUMHz: 100_000, MemoryMB: 100_000, CPUMHzPerVCPU: 2000},
		Children: []Node{{Name: "ns", Type: KindResourcePool, Children: []Node{
			{Name: "cassandra-0", Type: KindPod, Containers: []Container{ctr("500m", "1Gi", "500m", "1Gi")}},
			{Name: "web", Type: KindPod, Containers: []Container{ctr("250m", "256Mi", "", "")}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cassandra, web := res.Children[0].Children[0], res.Children[0].Children[1]
	if cassandra.QoSClass != QoSGuaranteed || cassandra.Size != (Size{1, 1024 + PodMemoryPaddingMB}) {
		t.Errorf("cassandra-0: %s %+v", cassandra.QoSClass, cassandra.Size)
	}
	// Half a 2000 MHz vCPU reserved and, as its limit, all it may use, even
	// though the pod's VM has a whole vCPU.
	if cassandra.CPUReservedMHz != 1000 || cassandra.MemoryReservedMB != 1024 {
		t.Errorf("cassandra-0 reserves %d MHz / %d MB, want 1000 / 1024", cassandra.CPUReservedMHz, cassandra.MemoryReservedMB)
	}
	if cassandra.CPUEntitlementMHz != 1000 || cassandra.CPUBound != BoundLimit {
		t.Errorf("cassandra-0 CPU %d MHz (%s), want 1000 bound by its limit", cassandra.CPUEntitlementMHz, cassandra.CPUBound)
	}
	if web.CPUReservedMHz != 500 || web.MemoryReservedMB != 256 || web.CPUEntitlementMHz != 2000 || web.CPUBound != BoundSize {
		t.Errorf("web: reserved %d MHz / %d MB, CPU %d MHz (%s); want 500 / 256, 2000 bound by size",
			web.CPUReservedMHz, web.MemoryReservedMB, web.CPUEntitlementMHz, web.CPUBound)
	}
	// The namespace pool holds what its pods reserve (expandable).
	if ns := res.Children[0]; ns.CPUReservedMHz != 1500 || ns.MemoryReservedMB != 1280 || res.MemoryReservedMB != 1280 {
		t.Errorf("ns holds %d MHz / %d MB, cluster %d MB; want 1500 / 1280 / 1280", ns.CPUReservedMHz, ns.MemoryReservedMB, res.MemoryReservedMB)
	}
}
