package namespaces

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/wcpd/wcpd/internal/vapi"
)

// ResourceQuota is namespaces.ResourceQuotaOptionsV1, the resource_spec of create and set and what
// get reports. CPU figures are MHz, memory and storage MiB, the rest object counts.
type ResourceQuota struct {
	MemoryLimit                *int64 `json:"memory_limit,omitempty"`
	MemoryLimitDefault         *int64 `json:"memory_limit_default,omitempty"`
	MemoryRequestDefault       *int64 `json:"memory_request_default,omitempty"`
	CPULimit                   *int64 `json:"cpu_limit,omitempty"`
	CPULimitDefault            *int64 `json:"cpu_limit_default,omitempty"`
	CPURequestDefault          *int64 `json:"cpu_request_default,omitempty"`
	StorageRequestLimit        *int64 `json:"storage_request_limit,omitempty"`
	PodCount                   *int64 `json:"pod_count,omitempty"`
	ServiceCount               *int64 `json:"service_count,omitempty"`
	DeploymentCount            *int64 `json:"deployment_count,omitempty"`
	DaemonSetCount             *int64 `json:"daemon_set_count,omitempty"`
	ReplicaSetCount            *int64 `json:"replica_set_count,omitempty"`
	ReplicationControllerCount *int64 `json:"replication_controller_count,omitempty"`
	StatefulSetCount           *int64 `json:"stateful_set_count,omitempty"`
	ConfigMapCount             *int64 `json:"config_map_count,omitempty"`
	SecretCount                *int64 `json:"secret_count,omitempty"`
	PersistentVolumeClaimCount *int64 `json:"persistent_volume_claim_count,omitempty"`
	JobCount                   *int64 `json:"job_count,omitempty"`
}

// ResourceQuotaUpdate is namespaces.ResourceQuotaOptionsV1Update, the resource_spec of update:
// each limit may be given a new value, or removed with its *_unset flag.
type ResourceQuotaUpdate struct {
	ResourceQuota
	MemoryLimitUnset                *bool `json:"memory_limit_unset,omitempty"`
	MemoryLimitDefaultUnset         *bool `json:"memory_limit_default_unset,omitempty"`
	MemoryRequestDefaultUnset       *bool `json:"memory_request_default_unset,omitempty"`
	CPULimitUnset                   *bool `json:"cpu_limit_unset,omitempty"`
	CPULimitDefaultUnset            *bool `json:"cpu_limit_default_unset,omitempty"`
	CPURequestDefaultUnset          *bool `json:"cpu_request_default_unset,omitempty"`
	StorageRequestLimitUnset        *bool `json:"storage_request_limit_unset,omitempty"`
	PodCountUnset                   *bool `json:"pod_count_unset,omitempty"`
	ServiceCountUnset               *bool `json:"service_count_unset,omitempty"`
	DeploymentCountUnset            *bool `json:"deployment_count_unset,omitempty"`
	DaemonSetCountUnset             *bool `json:"daemon_set_count_unset,omitempty"`
	ReplicaSetCountUnset            *bool `json:"replica_set_count_unset,omitempty"`
	ReplicationControllerCountUnset *bool `json:"replication_controller_count_unset,omitempty"`
	StatefulSetCountUnset           *bool `json:"stateful_set_count_unset,omitempty"`
	ConfigMapCountUnset             *bool `json:"config_map_count_unset,omitempty"`
	SecretCountUnset                *bool `json:"secret_count_unset,omitempty"`
	PersistentVolumeClaimCountUnset *bool `json:"persistent_volume_claim_count_unset,omitempty"`
	JobCountUnset                   *bool `json:"job_count_unset,omitempty"`
}

// quotaField describes one limit: its wire name and the smallest value that makes sense.
type quotaField struct {
	name string
	min  int64
	// unit words the minimum in messages.
	unit string
	// index of the field in ResourceQuota and of its *_unset flag in ResourceQuotaUpdate.
	value, unset int
}

// quotaFields lists every limit in wire order. The API documents 10 MHz as the least CPU figure;
// memory and storage must be at least 1 MiB; object counts may be zero (Kubernetes then allows none).
var quotaFields = buildQuotaFields(map[string]struct {
	min  int64
	unit string
}{
	"memory_limit": {1, "MiB"}, "memory_limit_default": {1, "MiB"}, "memory_request_default": {1, "MiB"},
	"cpu_limit": {10, "MHz"}, "cpu_limit_default": {10, "MHz"}, "cpu_request_default": {10, "MHz"},
	"storage_request_limit": {1, "MiB"},
})

func buildQuotaFields(mins map[string]struct {
	min  int64
	unit string
}) []quotaField {
	qt := reflect.TypeOf(ResourceQuota{})
	ut := reflect.TypeOf(ResourceQuotaUpdate{})
	unsetIndex := map[string]int{}
	for i := 0; i < ut.NumField(); i++ {
		name, _, _ := strings.Cut(ut.Field(i).Tag.Get("json"), ",")
		unsetIndex[name] = i
	}
	out := make([]quotaField, qt.NumField())
	for i := range out {
		name, _, _ := strings.Cut(qt.Field(i).Tag.Get("json"), ",")
		f := quotaField{name: name, unit: "", value: i, unset: unsetIndex[name+"_unset"]}
		if m, ok := mins[name]; ok {
			f.min, f.unit = m.min, m.unit
		}
		if f.unset == 0 {
			panic("namespaces: no unset flag for " + name)
		}
		out[i] = f
	}
	return out
}

// get reads the limit from q; a nil q has no limits.
func (f quotaField) get(q *ResourceQuota) *int64 {
	if q == nil {
		return nil
	}
	return reflect.ValueOf(q).Elem().Field(f.value).Interface().(*int64)
}

func (f quotaField) set(q *ResourceQuota, v *int64) {
	reflect.ValueOf(q).Elem().Field(f.value).Set(reflect.ValueOf(v))
}

func (f quotaField) unsetFlag(u *ResourceQuotaUpdate) *bool {
	return reflect.ValueOf(u).Elem().Field(f.unset).Interface().(*bool)
}

// Validate checks every given limit against its minimum.
func (q ResourceQuota) Validate(path string, errs *vapi.FieldErrors) {
	for _, f := range quotaFields {
		v := f.get(&q)
		if v == nil || *v >= f.min {
			continue
		}
		if f.unit == "" {
			errs.Add(path+"."+f.name, *v, "must not be negative")
		} else {
			errs.Add(path+"."+f.name, *v, fmt.Sprintf("must be at least %d %s", f.min, f.unit))
		}
	}
}

// Validate checks the new values (the unset flags need no check).
func (u ResourceQuotaUpdate) Validate(path string, errs *vapi.FieldErrors) {
	u.ResourceQuota.Validate(path, errs)
}

// apply merges an update into q (nil means no limits yet) and returns the result, nil when no limit
// is left.
func (u *ResourceQuotaUpdate) apply(q *ResourceQuota) *ResourceQuota {
	var out ResourceQuota
	if q != nil {
		out = *q
	}
	for _, f := range quotaFields {
		if unset := f.unsetFlag(u); unset != nil && *unset {
			f.set(&out, nil)
			continue
		}
		if v := f.get(&u.ResourceQuota); v != nil {
			n := *v
			f.set(&out, &n)
		}
	}
	return out.normalized()
}

// normalized returns nil for a quota without any limit, so "no resource_spec" has one form.
func (q *ResourceQuota) normalized() *ResourceQuota {
	if q == nil {
		return nil
	}
	for _, f := range quotaFields {
		if f.get(q) != nil {
			return q
		}
	}
	return nil
}

// checkConsistency checks what single fields cannot: a container's default request may not exceed
// its default limit, and a container's default limit may not exceed the namespace's limit (no pod
// using the defaults could ever be scheduled).
func (q *ResourceQuota) checkConsistency(path string, errs *vapi.FieldErrors) {
	if q == nil {
		return
	}
	pairs := []struct {
		lowName, highName string
		low, high         *int64
	}{
		{"cpu_request_default", "cpu_limit_default", q.CPURequestDefault, q.CPULimitDefault},
		{"cpu_limit_default", "cpu_limit", q.CPULimitDefault, q.CPULimit},
		{"cpu_request_default", "cpu_limit", q.CPURequestDefault, q.CPULimit},
		{"memory_request_default", "memory_limit_default", q.MemoryRequestDefault, q.MemoryLimitDefault},
		{"memory_limit_default", "memory_limit", q.MemoryLimitDefault, q.MemoryLimit},
		{"memory_request_default", "memory_limit", q.MemoryRequestDefault, q.MemoryLimit},
	}
	for _, p := range pairs {
		if p.low != nil && p.high != nil && *p.low > *p.high {
			errs.Add(path+"."+p.lowName, *p.low, fmt.Sprintf("must not exceed %s (%d)", p.highName, *p.high))
		}
	}
}
