package inventory

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/pbm"
	"github.com/vmware/govmomi/pbm/methods"
	pbmsim "github.com/vmware/govmomi/pbm/simulator"
	"github.com/vmware/govmomi/pbm/types"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	vim "github.com/vmware/govmomi/vim25/types"
)

// The PBM endpoint is assembled here rather than taken whole from
// pbm/simulator because that package's profile manager hands out random ids
// and shares its default profiles (pointers) between every instance in the
// process, writing to them as it goes. This profile manager owns private
// copies and keeps the ids it is given. The service instance and placement
// solver are pbm/simulator's own.

// pbmDefaults is pbm/simulator's out-of-the-box content, read once.
var pbmDefaults = sync.OnceValue(func() pbmSnapshot {
	r := pbmsim.New()
	si := r.Get(pbm.ServiceInstance).(*pbmsim.ServiceInstance)
	pm := r.Get(si.Content.ProfileManager).(*pbmsim.ProfileManager)
	snap := pbmSnapshot{content: si.Content, iofilters: map[string][]types.PbmIofilterInfo{}}
	details := pm.PbmQueryProfileDetails(&types.PbmQueryProfileDetails{}).(*methods.PbmQueryProfileDetailsBody)
	for _, d := range details.Res.Returnval {
		p, ok := d.Profile.(*types.PbmCapabilityProfile)
		if !ok {
			continue
		}
		snap.profiles = append(snap.profiles, *p)
		filters := pm.PbmQueryIOFiltersFromProfileId(&types.PbmQueryIOFiltersFromProfileId{
			ProfileIds: []types.PbmProfileId{p.ProfileId},
		}).(*methods.PbmQueryIOFiltersFromProfileIdBody)
		if filters.Res != nil {
			for _, m := range filters.Res.Returnval {
				snap.iofilters[m.Key.UniqueId] = slices.Clone(m.Iofilters)
			}
		}
	}
	return snap
})

type pbmSnapshot struct {
	content   types.PbmServiceInstanceContent
	profiles  []types.PbmCapabilityProfile // values: each instance copies them again
	iofilters map[string][]types.PbmIofilterInfo
}

// newPBMRegistry returns the /pbm endpoint's objects: the simulator's
// default policies plus the spec's, with the spec's fixed ids, and its
// profile manager.
func newPBMRegistry(policies []StoragePolicySpec, created time.Time) (*simulator.Registry, *profileManager) {
	snap := pbmDefaults()

	r := simulator.NewRegistry()
	r.Namespace = pbm.Namespace
	r.Path = pbm.Path
	r.Cookie = simulator.SOAPCookie

	r.Put(&pbmsim.ServiceInstance{ManagedObjectReference: pbm.ServiceInstance, Content: snap.content})
	r.Put(&pbmsim.PlacementSolver{ManagedObjectReference: snap.content.PlacementSolver})

	pm := &profileManager{
		ManagedObjectReference: snap.content.ProfileManager,
		iofilters:              map[string][]types.PbmIofilterInfo{},
	}
	for _, p := range snap.profiles {
		profile := p // a private copy; nested values are never written in place
		pm.profiles = append(pm.profiles, &profile)
	}
	for id, filters := range snap.iofilters {
		pm.iofilters[id] = slices.Clone(filters)
	}
	for _, spec := range policies {
		pm.profiles = append(pm.profiles, &types.PbmCapabilityProfile{
			PbmProfile: types.PbmProfile{
				ProfileId:       types.PbmProfileId{UniqueId: spec.ID},
				Name:            spec.Name,
				Description:     spec.Description,
				CreationTime:    created,
				CreatedBy:       "wcpd",
				LastUpdatedTime: created,
				LastUpdatedBy:   "wcpd",
			},
			ProfileCategory:  string(types.PbmProfileCategoryEnumREQUIREMENT),
			ResourceType:     types.PbmProfileResourceType{ResourceType: string(types.PbmProfileResourceTypeEnumSTORAGE)},
			Constraints:      &types.PbmCapabilitySubProfileConstraints{},
			K8sCompliantName: k8sCompliantName(spec.Name),
		})
	}
	r.Put(pm)
	return r, pm
}

// profileManager serves PbmProfileProfileManager. The simulator calls one
// method at a time per object (it locks the object), so no mutex is needed;
// results are copies because the simulator encodes them after unlocking.
type profileManager struct {
	vim.ManagedObjectReference

	// mu guards profiles against the durable inventory's reader; writes happen under it.
	mu        sync.Mutex
	profiles  []*types.PbmCapabilityProfile
	iofilters map[string][]types.PbmIofilterInfo
	// changed, when set, hears of every change to profiles (the durable inventory).
	changed func()
	// generation counts the changes to profiles (Inventory.PolicyGeneration): it moves under mu
	// with every write and restore, before the method that changed them answers.
	generation atomic.Uint64
}

// write changes the profiles under mu, then announces the change.
func (m *profileManager) write(fn func()) {
	m.mu.Lock()
	fn()
	m.generation.Add(1)
	m.mu.Unlock()
	if m.changed != nil {
		m.changed()
	}
}

func (m *profileManager) find(id string) (int, *types.PbmCapabilityProfile) {
	for i, p := range m.profiles {
		if p.ProfileId.UniqueId == id {
			return i, p
		}
	}
	return -1, nil
}

func copyProfile(p *types.PbmCapabilityProfile) *types.PbmCapabilityProfile {
	c := *p
	c.OtherK8sCompliantNames = slices.Clone(p.OtherK8sCompliantNames)
	return &c
}

func (m *profileManager) PbmQueryProfile(req *types.PbmQueryProfile) soap.HasFault {
	body := &methods.PbmQueryProfileBody{Res: &types.PbmQueryProfileResponse{}}
	for _, p := range m.profiles {
		if p.ResourceType != req.ResourceType {
			continue
		}
		if req.ProfileCategory != "" && p.ProfileCategory != req.ProfileCategory {
			continue
		}
		body.Res.Returnval = append(body.Res.Returnval, p.ProfileId)
	}
	return body
}

func (m *profileManager) PbmQueryProfileDetails(req *types.PbmQueryProfileDetails) soap.HasFault {
	body := &methods.PbmQueryProfileDetailsBody{Res: &types.PbmQueryProfileDetailsResponse{}}
	for _, p := range m.profiles {
		if req.ProfileCategory != "" && p.ProfileCategory != req.ProfileCategory {
			continue
		}
		details := types.PbmProfileDetails{Profile: copyProfile(p)}
		if filters, ok := m.iofilters[p.ProfileId.UniqueId]; ok {
			details.IofInfos = slices.Clone(filters)
		}
		body.Res.Returnval = append(body.Res.Returnval, details)
	}
	return body
}

func (m *profileManager) PbmRetrieveContent(req *types.PbmRetrieveContent) soap.HasFault {
	body := &methods.PbmRetrieveContentBody{}
	if len(req.ProfileIds) == 0 {
		body.Fault_ = simulator.Fault("", &vim.InvalidRequest{})
		return body
	}
	var found []types.BasePbmProfile
	for _, id := range req.ProfileIds {
		_, p := m.find(id.UniqueId)
		if p == nil {
			body.Fault_ = simulator.Fault("Profile not found: "+id.UniqueId, &vim.InvalidArgument{InvalidProperty: "profileId"})
			return body
		}
		found = append(found, copyProfile(p))
	}
	body.Res = &types.PbmRetrieveContentResponse{Returnval: found}
	return body
}

func (m *profileManager) PbmCreate(ctx *simulator.Context, req *types.PbmCreate) soap.HasFault {
	body := &methods.PbmCreateBody{}
	spec := req.CreateSpec
	for _, p := range m.profiles {
		if p.Name == spec.Name {
			body.Fault_ = simulator.Fault("Profile name already exists: "+spec.Name, &types.PbmDuplicateName{Name: spec.Name})
			return body
		}
	}
	now := time.Now()
	user := ""
	if ctx.Session != nil {
		user = ctx.Session.UserName
	}
	name := spec.K8sCompliantName
	if name == "" {
		name = k8sCompliantName(spec.Name)
	}
	p := &types.PbmCapabilityProfile{
		PbmProfile: types.PbmProfile{
			ProfileId:       types.PbmProfileId{UniqueId: uuid.NewString()},
			Name:            spec.Name,
			Description:     spec.Description,
			CreationTime:    now,
			CreatedBy:       user,
			LastUpdatedTime: now,
			LastUpdatedBy:   user,
		},
		ProfileCategory:  spec.Category,
		ResourceType:     spec.ResourceType,
		Constraints:      spec.Constraints,
		K8sCompliantName: name,
	}
	m.write(func() { m.profiles = append(m.profiles, p) })
	body.Res = &types.PbmCreateResponse{Returnval: p.ProfileId}
	return body
}

func (m *profileManager) PbmUpdate(ctx *simulator.Context, req *types.PbmUpdate) soap.HasFault {
	body := &methods.PbmUpdateBody{}
	i, p := m.find(req.ProfileId.UniqueId)
	if p == nil {
		body.Fault_ = simulator.Fault("Profile not found: "+req.ProfileId.UniqueId, &vim.InvalidArgument{InvalidProperty: "profileId"})
		return body
	}
	updated := copyProfile(p)
	if req.UpdateSpec.Name != "" {
		updated.Name = req.UpdateSpec.Name
	}
	if req.UpdateSpec.Description != "" {
		updated.Description = req.UpdateSpec.Description
	}
	if req.UpdateSpec.Constraints != nil {
		updated.Constraints = req.UpdateSpec.Constraints
	}
	updated.LastUpdatedTime = time.Now()
	if ctx.Session != nil {
		updated.LastUpdatedBy = ctx.Session.UserName
	}
	updated.GenerationId++
	m.write(func() { m.profiles[i] = updated })
	body.Res = &types.PbmUpdateResponse{}
	return body
}

func (m *profileManager) PbmDelete(req *types.PbmDelete) soap.HasFault {
	body := &methods.PbmDeleteBody{Res: &types.PbmDeleteResponse{}}
	for _, id := range req.ProfileId {
		i, p := m.find(id.UniqueId)
		if p == nil {
			body.Res.Returnval = append(body.Res.Returnval, types.PbmProfileOperationOutcome{
				ProfileId: id,
				Fault:     &vim.LocalizedMethodFault{Fault: &vim.NotFound{}, LocalizedMessage: "Profile not found"},
			})
			continue
		}
		m.write(func() { m.profiles = slices.Delete(slices.Clone(m.profiles), i, i+1) })
		delete(m.iofilters, id.UniqueId)
	}
	return body
}

// Nothing is associated with a policy: the embedded inventory does not track
// per-VM or per-disk policy assignments.

func (m *profileManager) PbmQueryAssociatedProfile(*types.PbmQueryAssociatedProfile) soap.HasFault {
	return &methods.PbmQueryAssociatedProfileBody{Res: &types.PbmQueryAssociatedProfileResponse{}}
}

func (m *profileManager) PbmQueryAssociatedProfiles(*types.PbmQueryAssociatedProfiles) soap.HasFault {
	return &methods.PbmQueryAssociatedProfilesBody{Res: &types.PbmQueryAssociatedProfilesResponse{}}
}

func (m *profileManager) PbmQueryAssociatedEntity(*types.PbmQueryAssociatedEntity) soap.HasFault {
	return &methods.PbmQueryAssociatedEntityBody{Res: &types.PbmQueryAssociatedEntityResponse{}}
}

func (m *profileManager) PbmQueryAssociatedEntities(*types.PbmQueryAssociatedEntities) soap.HasFault {
	return &methods.PbmQueryAssociatedEntitiesBody{Res: &types.PbmQueryAssociatedEntitiesResponse{}}
}

func (m *profileManager) PbmQueryIOFiltersFromProfileId(req *types.PbmQueryIOFiltersFromProfileId) soap.HasFault {
	body := &methods.PbmQueryIOFiltersFromProfileIdBody{Res: &types.PbmQueryIOFiltersFromProfileIdResponse{}}
	for _, id := range req.ProfileIds {
		filters, ok := m.iofilters[id.UniqueId]
		if !ok {
			if _, p := m.find(id.UniqueId); p == nil {
				body.Res = nil
				body.Fault_ = simulator.Fault("Invalid profile ID", &vim.RuntimeFault{})
				return body
			}
		}
		body.Res.Returnval = append(body.Res.Returnval, types.PbmProfileToIofilterMap{
			Key: id, Iofilters: slices.Clone(filters),
		})
	}
	return body
}

// PbmResolveK8sCompliantNames gives every policy its late-binding alias, as vCenter does.
func (m *profileManager) PbmResolveK8sCompliantNames(*types.PbmResolveK8sCompliantNames) soap.HasFault {
	for i, p := range m.profiles {
		alias := p.K8sCompliantName + "-latebinding"
		if slices.Contains(p.OtherK8sCompliantNames, alias) {
			continue
		}
		updated := copyProfile(p)
		updated.OtherK8sCompliantNames = append(updated.OtherK8sCompliantNames, alias)
		m.write(func() { m.profiles[i] = updated })
	}
	return &methods.PbmResolveK8sCompliantNamesBody{Res: &types.PbmResolveK8sCompliantNamesResponse{}}
}

func (m *profileManager) PbmUpdateK8sCompliantNames(req *types.PbmUpdateK8sCompliantNames) soap.HasFault {
	body := &methods.PbmUpdateK8sCompliantNamesBody{}
	spec := req.K8sCompliantNameSpec
	i, p := m.find(spec.ProfileId)
	if p == nil {
		body.Fault_ = simulator.Fault("Profile not found: "+spec.ProfileId, &vim.InvalidArgument{InvalidProperty: "profileId"})
		return body
	}
	updated := copyProfile(p)
	switch {
	case updated.K8sCompliantName == "":
		updated.K8sCompliantName = spec.K8sCompliantName
	case updated.K8sCompliantName != spec.K8sCompliantName:
		body.Fault_ = simulator.Fault("Invalid Argument", &vim.RuntimeFault{})
		return body
	}
	if slices.Contains(spec.OtherK8sCompliantNames, updated.K8sCompliantName) {
		body.Fault_ = simulator.Fault("Duplicate Name", &vim.RuntimeFault{})
		return body
	}
	updated.OtherK8sCompliantNames = slices.Clone(spec.OtherK8sCompliantNames)
	m.write(func() { m.profiles[i] = updated })
	body.Res = &types.PbmUpdateK8sCompliantNamesResponse{}
	return body
}

var notK8sName = regexp.MustCompile(`[^a-z0-9.]+`)

// k8sCompliantName derives the Kubernetes storage class name vCenter gives
// a policy: lower case, runs of other characters become '-', and it must
// start and end with an alphanumeric.
func k8sCompliantName(policy string) string {
	name := notK8sName.ReplaceAllString(strings.ToLower(policy), "-")
	if name == "" {
		return "0"
	}
	if name[0] == '-' || name[0] == '.' {
		name = "0" + name
	}
	if last := name[len(name)-1]; last == '-' || last == '.' {
		name += "0"
	}
	return name
}
