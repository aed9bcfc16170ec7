package namespaces

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// recordKind is the store kind of namespace records; the key is the namespace name, which is
// unique across the vCenter.
const recordKind = "namespaces"

// record is one namespace as stored: what the administrator asked for (spec), who made it and how
// (meta fields), and what the controller has made of it (status).
type record struct {
	Name string `json:"name"`
	// Cluster and Supervisor locate the namespace; both are kept so v1 and v2 answer without asking
	// the clusters family when the Supervisor is gone.
	Cluster    string `json:"cluster"`
	Supervisor string `json:"supervisor"`

	Spec nsSpec `json:"spec"`

	// Creator is the creator field of the create spec, reported as given; for a self-service
	// namespace, the DevOps user who created it.
	Creator *Principal `json:"creator,omitempty"`
	// SelfService marks namespaces created from the cluster's self-service template by a user
	// without Namespaces.Manage; administrators' namespaces never have it.
	SelfService bool `json:"self_service,omitempty"`
	// CreatedBy is the vCenter user whose request created the namespace (user@domain).
	CreatedBy string `json:"created_by,omitempty"`
	// System marks a namespace created for a Supervisor Service through the platform contract:
	// it is listed like any namespace but only its service may change or remove it.
	System    bool      `json:"system,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// UpgradesAtCreate is how many upgrades the Supervisor had completed when the namespace was
	// created; FirstUpgradeHandled is set once the Supervisor's first upgrade has been applied to
	// the namespace (upgrade.go: namespaces from before the first upgrade without any VM Service
	// configuration then get the default VM classes).
	UpgradesAtCreate    int  `json:"upgrades_at_create,omitempty"`
	FirstUpgradeHandled bool `json:"first_upgrade_handled,omitempty"`

	Status nsStatus `json:"status"`
}

// nsSpec is the desired configuration, the part create, set and update change.
type nsSpec struct {
	Description      string               `json:"description,omitempty"`
	ResourceSpec     *ResourceQuota       `json:"resource_spec,omitempty"`
	AccessList       []Access             `json:"access_list,omitempty"`
	StorageSpecs     []StorageSpec        `json:"storage_specs,omitempty"`
	Networks         []string             `json:"networks,omitempty"`
	VMServiceSpec    *VMServiceSpec       `json:"vm_service_spec,omitempty"`
	ContentLibraries []ContentLibrarySpec `json:"content_libraries,omitempty"`
	NamespaceNetwork *NetworkCreateSpec   `json:"namespace_network,omitempty"`
}

// nsStatus is what the controller observed and did.
type nsStatus struct {
	ConfigStatus string    `json:"config_status"`
	Messages     []Message `json:"messages,omitempty"`
	// Generation counts changes to the spec; AppliedGeneration is the one the backing resource pool
	// reflects. The namespace is RUNNING only when they are equal.
	Generation        int64 `json:"generation"`
	AppliedGeneration int64 `json:"applied_generation"`
	// ConfiguringSince is when the namespace was created: the simulated configuration work lasts
	// the server's task duration from then.
	ConfiguringSince time.Time `json:"configuring_since,omitzero"`
	// RemovingSince is when removal was asked for; the pool goes one task duration later.
	RemovingSince time.Time `json:"removing_since,omitzero"`
	// Pool is the MoRef of the backing resource pool as last seen (informational: the inventory is
	// rebuilt at every start, so the controller finds the pool by name under the Supervisor's
	// Namespaces pool).
	Pool string `json:"pool,omitempty"`
	// KubernetesProblem says why the namespace cannot be realised in its Supervisor's Kubernetes
	// API, as the Kubernetes side reported it (kubernetes.go); "" when there is none.
	KubernetesProblem string `json:"kubernetes_problem,omitempty"`
}

// messages are the namespace's status messages, with a problem in Kubernetes last.
func (r *record) messages() []Message {
	out := append([]Message{}, r.Status.Messages...)
	if r.Status.KubernetesProblem != "" {
		out = append(out, kubernetesMessage(r.Status.KubernetesProblem))
	}
	return out
}

func (r *record) removing() bool { return r.Status.ConfigStatus == StatusRemoving }

// specJSON is the canonical encoding of the spec, to tell whether a change changed anything.
func (s *nsSpec) specJSON() []byte {
	b, _ := json.Marshal(s)
	return b
}

// changeSpec applies fn to the spec and bumps the generation if the spec changed. A RUNNING
// namespace goes back to CONFIGURING until the controller has applied the change.
func (r *record) changeSpec(fn func(s *nsSpec) error) (bool, error) {
	before := r.Spec.specJSON()
	if err := fn(&r.Spec); err != nil {
		return false, err
	}
	if bytes.Equal(before, r.Spec.specJSON()) {
		return false, nil
	}
	r.Status.Generation++
	if r.Status.ConfigStatus == StatusRunning || r.Status.ConfigStatus == StatusError {
		r.Status.ConfigStatus = StatusConfiguring
	}
	return true, nil
}

// libraries lists the content libraries reported in Info.content_libraries: the VM Image Service
// libraries as given, then the VM Service libraries not already among them, read-only (the API
// documents that VM Service libraries are included in that list).
func (s *nsSpec) libraries() []contentLibraryInfo {
	var out []contentLibraryInfo
	seen := map[string]bool{}
	for _, l := range s.ContentLibraries {
		out = append(out, contentLibraryInfo{ContentLibrary: l.ContentLibrary, Writable: l.Writable != nil && *l.Writable})
		seen[strings.ToLower(l.ContentLibrary)] = true
	}
	if s.VMServiceSpec != nil {
		for _, id := range s.VMServiceSpec.ContentLibraries {
			if !seen[strings.ToLower(id)] {
				out = append(out, contentLibraryInfo{ContentLibrary: id})
				seen[strings.ToLower(id)] = true
			}
		}
	}
	return out
}

// info renders the fields v1 and v2 share.
func (r *record) info(stats Stats) infoCommon {
	s := &r.Spec
	out := infoCommon{
		ConfigStatus:         r.Status.ConfigStatus,
		Messages:             r.messages(),
		Stats:                stats,
		Description:          s.Description,
		ResourceSpec:         s.ResourceSpec,
		AccessList:           append([]Access{}, s.AccessList...),
		StorageSpecs:         append([]StorageSpec{}, s.StorageSpecs...),
		Networks:             s.Networks,
		ContentLibraries:     r.Spec.libraries(),
		Creator:              r.Creator,
		SelfServiceNamespace: r.SelfService,
	}
	if s.VMServiceSpec != nil {
		out.VMServiceSpec = &vmServiceInfo{
			ContentLibraries: append([]string{}, s.VMServiceSpec.ContentLibraries...),
			VMClasses:        append([]string{}, s.VMServiceSpec.VMClasses...),
		}
	}
	return out
}
