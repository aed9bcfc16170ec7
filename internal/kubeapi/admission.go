package kubeapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/wcpd/wcpd/internal/admission"
	"github.com/wcpd/wcpd/internal/vapi"
)

// Operations the namespace webhook runs for the user, the same as through the vCenter API.
const (
	opNamespaceCreate = vapi.ServicePrefix + "namespaces.instances.create"
	opNamespaceDelete = vapi.ServicePrefix + "namespaces.instances.delete"
)

// namespaceAdmission admits namespaces created or deleted in a Supervisor's API server.
//
// Every Kubernetes Namespace there realises a vSphere Namespace, so `kubectl create namespace` by a
// user creates the vSphere Namespace through the vCenter API's own create operation as that user:
// an administrator's request makes an ordinary namespace, a DevOps user's is self-service from the
// Supervisor's template (budget checks and errors included), and anyone else is refused with the
// vCenter API's reason. `kubectl delete namespace` likewise deletes the vSphere Namespace as the
// user, so only its owner or an administrator gets through. wcpd's own requests and the API
// server's pass unchecked.
func (m *Manager) namespaceAdmission(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) *metav1.Status {
	if msg, code := m.admitNamespace(ctx, cluster, req); msg != "" {
		return admission.Refuse(code, metav1.StatusReasonForbidden, msg)
	}
	return nil
}

// admitNamespace returns why the request is refused, with its HTTP status, or "" to allow it.
func (m *Manager) admitNamespace(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) (string, int32) {
	user := req.UserInfo
	if admission.Trusted(user, wcpdUser) {
		return "", 0
	}
	name := req.Name
	if name == "" && req.Object.Raw != nil {
		var obj metav1.PartialObjectMetadata
		if err := json.Unmarshal(req.Object.Raw, &obj); err == nil {
			name = obj.Name
		}
	}
	p, ok := m.principalOf(user.Username)
	if !ok {
		return "namespaces on a Supervisor are vSphere Namespaces: only vCenter users (sso:USER@DOMAIN) may create or delete them, not " + user.Username, http.StatusForbidden
	}
	existing, exists := m.deps.Families.Namespaces.Realisation(name)
	switch req.Operation {
	case admissionv1.Create:
		if exists {
			if existing.Cluster == cluster {
				return "", 0 // made through the vCenter API a moment ago; wcpd realises it
			}
			return "the vSphere Namespace " + name + " already exists on another Supervisor (cluster " + existing.Cluster + ")", http.StatusConflict
		}
		if req.DryRun != nil && *req.DryRun {
			return "", 0
		}
		body, _ := json.Marshal(map[string]string{"cluster": cluster, "namespace": name})
		m.realiser.expectCreate(cluster, name, time.Now())
		if _, err := m.deps.Invoke(ctx, p, opNamespaceCreate, nil, body); err != nil {
			m.realiser.expectCreate(cluster, name, time.Time{})
			return refusal("creating", name, err)
		}
		return "", 0
	case admissionv1.Delete:
		if !exists || existing.Removing || existing.Cluster != cluster || (req.DryRun != nil && *req.DryRun) {
			return "", 0
		}
		if _, err := m.deps.Invoke(ctx, p, opNamespaceDelete, map[string]string{"namespace": name}, nil); err != nil {
			return refusal("deleting", name, err)
		}
	}
	return "", 0
}

// refusal words a vCenter API error as an admission refusal, keeping its status.
func refusal(doing, name string, err error) (string, int32) {
	ve := vapi.AsError(err)
	var msgs []string
	for _, m := range ve.Messages {
		msgs = append(msgs, m.DefaultMessage)
	}
	return "vCenter refused " + doing + " the vSphere Namespace " + name + " (" + string(ve.Type) + "): " + strings.Join(msgs, " "), int32(ve.HTTPStatus())
}
