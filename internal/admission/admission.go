// Package admission owns the webhook side of Kubernetes admission for wcpd's webhooks (validating
// namespaces and VirtualMachines, mutating VirtualMachines): reading an AdmissionReview, answering
// it with a decision or a patch, and whose requests pass unchecked.
package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// maxReviewBytes bounds what a webhook reads of a request.
const maxReviewBytes = 4 << 20

// Func decides a request to the Supervisor on cluster: nil allows it, a Status refuses it.
type Func func(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) *metav1.Status

// Handler serves decide at a path whose {cluster} segment names the Supervisor.
func Handler(decide Func) http.Handler {
	return MutatingHandler(func(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) ([]byte, *metav1.Status) {
		return nil, decide(ctx, cluster, req)
	})
}

// PatchFunc decides a request to a mutating webhook: a JSON patch (RFC 6902) to apply, or nil for
// none, and nil or a refusal.
type PatchFunc func(ctx context.Context, cluster string, req *admissionv1.AdmissionRequest) (patch []byte, refused *metav1.Status)

// MutatingHandler serves decide at a path whose {cluster} segment names the Supervisor.
func MutatingHandler(decide PatchFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReviewBytes)).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "the body is not an AdmissionReview with a request", http.StatusBadRequest)
			return
		}
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		patch, refused := decide(r.Context(), r.PathValue("cluster"), review.Request)
		switch {
		case refused != nil:
			resp.Allowed, resp.Result = false, refused
		case patch != nil:
			resp.Patch, resp.PatchType = patch, ptr.To(admissionv1.PatchTypeJSONPatch)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
	})
}

// Refuse is a refusal with its HTTP status, reason and message.
func Refuse(code int32, reason metav1.StatusReason, message string) *metav1.Status {
	return &metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: message}
}

// Trusted reports whether a request comes from wcpd itself (user self, in system:masters) or from
// Kubernetes' own components, which the webhooks let through unchecked.
func Trusted(u authenticationv1.UserInfo, self string) bool {
	return u.Username == self || strings.HasPrefix(u.Username, "system:") || slices.Contains(u.Groups, "system:masters")
}
