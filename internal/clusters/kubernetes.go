package clusters

import (
	"context"

	"github.com/wcpd/wcpd/internal/vapi"
)

// This file reports the Supervisor's Kubernetes API server (issue 11, run by internal/kubeapi) in
// the Supervisor's kubernetes_status, kubernetes_messages and conditions.

// kubernetesCondition is the condition type that follows the Kubernetes API server.
const kubernetesCondition = "KubernetesAPIServerReady"

// kubernetesMessageID marks the Kubernetes status message this file writes, so it can be told
// apart from an upgrade's and cleared when the API server is ready again.
const kubernetesMessageID = "wcpd.supervisor.kubernetes.apiserver"

// WatchChanges implements platform.Supervisors.
func (f *Family) WatchChanges(ctx context.Context, fn func(cluster string)) {
	f.supervisors.WatchKeys(ctx, fn)
}

// KubernetesChanged implements platform.Supervisors.
func (f *Family) KubernetesChanged(cluster string) {
	if f.ctl != nil {
		f.ctl.Enqueue(cluster)
	}
}

// reportKubernetes brings a RUNNING Supervisor's Kubernetes status and condition in line with its
// API server. Without a Kubernetes side it changes nothing.
func (f *Family) reportKubernetes(v *supervisor) {
	k := f.deps.Families.Kubernetes
	if k == nil {
		return
	}
	st, ok := k.APIServer(v.Cluster)
	cond := Condition{Type: kubernetesCondition, Severity: "INFO", Messages: []Message{},
		Description: localizable("wcpd.supervisor.condition."+kubernetesCondition, "The Supervisor's Kubernetes API server answers requests.")}
	ownMessage := len(v.KubernetesMessages) == 1 && v.KubernetesMessages[0].Details != nil &&
		v.KubernetesMessages[0].Details.ID == kubernetesMessageID
	switch {
	case ok && st.Ready:
		cond.Status, cond.Reason = "TRUE", "APIServerReady"
		if ownMessage {
			v.KubernetesStatus, v.KubernetesMessages = "READY", []Message{}
		}
	case ok && st.Problem != "":
		cond.Status, cond.Reason, cond.Severity = "FALSE", "APIServerFailed", "ERROR"
		msg := newMessage("ERROR", kubernetesMessageID, "The Kubernetes API server is not running: "+st.Problem, st.Problem)
		cond.Messages = []Message{msg}
		v.KubernetesStatus, v.KubernetesMessages = "ERROR", []Message{msg}
	default:
		cond.Status, cond.Reason = "FALSE", "APIServerStarting"
		msg := newMessage("INFO", kubernetesMessageID, "The Kubernetes API server is starting.")
		cond.Messages = []Message{msg}
		if v.KubernetesStatus == "READY" || ownMessage {
			v.KubernetesStatus, v.KubernetesMessages = "WARNING", []Message{msg}
		}
	}
	now := vapi.NewDateTime(f.now())
	cond.LastTransitionTime = &now
	for i, c := range v.Conditions {
		if c.Type != kubernetesCondition {
			continue
		}
		if c.Status == cond.Status && c.LastTransitionTime != nil {
			cond.LastTransitionTime = c.LastTransitionTime
		}
		v.Conditions[i] = cond
		return
	}
	v.Conditions = append(v.Conditions, cond)
}
