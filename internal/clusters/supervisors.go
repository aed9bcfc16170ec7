package clusters

import (
	"sort"

	"github.com/wcpd/wcpd/internal/vapi"
)

// The 8.0 Supervisors API reads the same records as the clusters API, addressed by Supervisor id.

func (f *Family) bySupervisorID(id string) (supervisor, error) {
	for _, r := range f.supervisors.ListShared() {
		if r.Value.ID == id {
			s, _ := f.lookup(r.Key)
			return s, nil
		}
	}
	return supervisor{}, vapi.NotFound("Supervisor", id)
}

func (f *Family) summaryGet(c *vapi.Call) (any, error) {
	s, err := f.bySupervisorID(c.Path("supervisor"))
	if err != nil {
		return nil, err
	}
	stats, err := f.usage(c.Ctx, s.Clusters)
	if err != nil {
		return nil, err
	}
	return SupervisorSummaryInfo{Name: s.Name, Stats: stats, ConfigStatus: s.ConfigStatus, KubernetesStatus: s.KubernetesStatus}, nil
}

func (f *Family) summaryList(c *vapi.Call) (any, error) {
	var filter SupervisorSummaryFilter
	if _, err := c.BindOptional("filter", &filter); err != nil {
		return nil, err
	}
	out := SupervisorSummaryList{Items: []SupervisorSummaryItem{}}
	for _, r := range f.supervisors.ListShared() {
		s := r.Value
		if filter.ConfigStatus != nil && string(*filter.ConfigStatus) != s.ConfigStatus {
			continue
		}
		if filter.KubernetesStatus != nil && string(*filter.KubernetesStatus) != s.KubernetesStatus {
			continue
		}
		stats, err := f.usage(c.Ctx, s.Clusters)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, SupervisorSummaryItem{Supervisor: s.ID,
			Info: SupervisorSummaryInfo{Name: s.Name, Stats: stats, ConfigStatus: s.ConfigStatus, KubernetesStatus: s.KubernetesStatus}})
	}
	sort.Slice(out.Items, func(i, j int) bool { return out.Items[i].Info.Name < out.Items[j].Info.Name })
	return out, nil
}

func (f *Family) conditionsGet(c *vapi.Call) (any, error) {
	s, err := f.bySupervisorID(c.Path("supervisor"))
	if err != nil {
		return nil, err
	}
	out := make([]SupervisorCondition, 0, len(s.Conditions))
	for _, cond := range s.Conditions {
		sc := SupervisorCondition{Type: cond.Type, Description: cond.Description, Status: cond.Status,
			LastTransitionTime: cond.LastTransitionTime, Reason: cond.Reason, Severity: cond.Severity, Messages: []ConditionMessage{}}
		for _, m := range cond.Messages {
			sc.Messages = append(sc.Messages, ConditionMessage{Severity: m.Severity, Details: m.Details})
		}
		out = append(out, sc)
	}
	return out, nil
}

// topologyGet answers the Supervisor's zones and their clusters (each of wcpd's zones holds one
// cluster).
func (f *Family) topologyGet(c *vapi.Call) (any, error) {
	s, err := f.bySupervisorID(c.Path("supervisor"))
	if err != nil {
		return nil, err
	}
	out := make([]TopologyInfo, 0, len(s.Clusters))
	for _, cl := range s.Clusters {
		out = append(out, TopologyInfo{Zone: f.zoneOf(cl), Clusters: []string{cl}})
	}
	return out, nil
}
