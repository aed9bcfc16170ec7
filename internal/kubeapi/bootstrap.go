package kubeapi

import (
	"context"
	"k8s.io/utils/ptr"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsclientset "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wcpd/wcpd/internal/vmop"
)

// The ClusterRoles wcpd defines in every Supervisor (docs/kubernetes.md).
const (
	// roleDevOps lets every authenticated user read what a Supervisor shows all DevOps users
	// (storage classes, nodes, cluster-wide VM images) and ask to create a namespace, which the
	// namespace admission webhook then allows only through self-service.
	roleDevOps = "wcpd:devops"
	// roleNamespaceOwner is bound, beside edit, to a namespace's OWNERs: they may delete the
	// namespace and manage its RoleBindings.
	roleNamespaceOwner = "wcpd:namespace-owner"
	// roleVMServiceView and roleVMServiceEdit add VM Operator's resources to Kubernetes' view and
	// edit roles by aggregation; VM classes and images stay read-only, since vCenter owns them.
	roleVMServiceView = "wcpd:vmservice-view"
	roleVMServiceEdit = "wcpd:vmservice-edit"
)

// namespaceWebhook names the validating webhook that admits namespaces.
const namespaceWebhook = "namespaces.wcpd.vmware.com"

// vmServiceWorkloads are VM Operator's resources DevOps users create themselves.
var vmServiceWorkloads = []string{
	"virtualmachines", "virtualmachineservices", "virtualmachinepublishrequests",
	"virtualmachinesetresourcepolicies", "virtualmachinegroups", "virtualmachinegrouppublishrequests",
	"virtualmachinereplicasets", "virtualmachinesnapshots", "virtualmachinewebconsolerequests", "webconsolerequests",
}

// bootstrap installs what wcpd needs in a Supervisor's API server before it is reported ready:
// the roles and bindings, the namespace admission webhook, and VM Operator's CRDs.
func (i *instance) bootstrap(ctx context.Context) error {
	readVerbs := []string{"get", "list", "watch"}
	objects := []client.Object{
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: managedMeta(administratorsGroup, ""),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: administratorsGroup}},
		},
		&rbacv1.ClusterRole{
			ObjectMeta: managedMeta(roleDevOps, ""),
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses"}, Verbs: readVerbs},
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: readVerbs},
				{APIGroups: []string{vmop.GroupName}, Resources: []string{"clustervirtualmachineimages"}, Verbs: readVerbs},
				{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"create"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: managedMeta(roleDevOps, ""),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleDevOps},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:authenticated"}},
		},
		&rbacv1.ClusterRole{
			ObjectMeta: managedMeta(roleNamespaceOwner, ""),
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "delete"}},
				{APIGroups: []string{rbacv1.GroupName}, Resources: []string{"rolebindings"}, Verbs: []string{"*"}},
			},
		},
		&rbacv1.ClusterRole{
			ObjectMeta: aggregated(managedMeta(roleVMServiceView, ""), "view", "edit", "admin"),
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{vmop.GroupName}, Resources: []string{"*"}, Verbs: readVerbs}},
		},
		&rbacv1.ClusterRole{
			ObjectMeta: aggregated(managedMeta(roleVMServiceEdit, ""), "edit", "admin"),
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{vmop.GroupName}, Resources: vmServiceWorkloads, Verbs: []string{"*"}}},
		},
		i.namespaceWebhookConfiguration(),
		i.virtualMachineWebhookConfiguration(),
		i.virtualMachineDefaultsConfiguration(),
	}
	for _, o := range objects {
		if err := apply(ctx, i.client, o); err != nil {
			return err
		}
	}
	ext, err := apiextensionsclientset.NewForConfig(i.config)
	if err != nil {
		return err
	}
	return vmop.Install(ctx, ext, i.m.webhooks.url("/convert"), i.m.webhooks.ca.CertPEM)
}

// aggregated labels a ClusterRole so that Kubernetes folds it into the named default roles.
func aggregated(meta metav1.ObjectMeta, roles ...string) metav1.ObjectMeta {
	for _, r := range roles {
		meta.Labels["rbac.authorization.k8s.io/aggregate-to-"+r] = "true"
	}
	return meta
}

// namespaceWebhookConfiguration sends every namespace creation and deletion to wcpd, which turns
// them into vSphere Namespace operations (admission.go); they have side effects, except on dry runs.
func (i *instance) namespaceWebhookConfiguration() *admissionregistrationv1.ValidatingWebhookConfiguration {
	return i.validatingWebhook(namespaceWebhook, "/admit/namespaces/", admissionregistrationv1.SideEffectClassNoneOnDryRun,
		admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Delete},
			Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"},
				Resources: []string{"namespaces"}, Scope: ptr.To(admissionregistrationv1.ClusterScope)},
		})
}

// virtualMachineChanges are the requests VM Service's webhooks see: VirtualMachines created and
// changed, as v1alpha5 whatever version the client speaks (matchPolicy Equivalent).
var virtualMachineChanges = admissionregistrationv1.RuleWithOperations{
	Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
	Rule: admissionregistrationv1.Rule{APIGroups: []string{vmop.GroupName}, APIVersions: []string{"v1alpha5"},
		Resources: []string{"virtualmachines"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope)},
}

// vmWebhook names the validating webhook that admits VirtualMachines.
const vmWebhook = "virtualmachines.wcpd.vmware.com"

// virtualMachineWebhookConfiguration sends VirtualMachine creations and changes to VM Service's
// checks (internal/vmservice), as v1alpha5 whatever version the client speaks (matchPolicy
// Equivalent).
func (i *instance) virtualMachineWebhookConfiguration() *admissionregistrationv1.ValidatingWebhookConfiguration {
	return i.validatingWebhook(vmWebhook, "/admit/virtualmachines/", admissionregistrationv1.SideEffectClassNone,
		virtualMachineChanges)
}

// vmDefaultsWebhook names the mutating webhook that fills in VirtualMachines.
const vmDefaultsWebhook = "default.virtualmachines.wcpd.vmware.com"

// virtualMachineDefaultsConfiguration sends VirtualMachine creations and changes to VM Service's
// mutation, which turns a spec.nextRestartTime of "now" into the time, as VM Operator's does.
func (i *instance) virtualMachineDefaultsConfiguration() *admissionregistrationv1.MutatingWebhookConfiguration {
	// The same settings as the validating webhooks', on the mutating kind.
	v := i.validatingWebhook(vmDefaultsWebhook, "/mutate/virtualmachines/", admissionregistrationv1.SideEffectClassNone,
		virtualMachineChanges)
	w := v.Webhooks[0]
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: v.ObjectMeta,
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: w.Name, ClientConfig: w.ClientConfig, AdmissionReviewVersions: w.AdmissionReviewVersions,
			SideEffects: w.SideEffects, FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy,
			TimeoutSeconds: w.TimeoutSeconds, Rules: w.Rules,
			ReinvocationPolicy: ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
		}},
	}
}

// validatingWebhook is a webhook of wcpd's listener at path<cluster>, failing closed.
func (i *instance) validatingWebhook(name, path string, sideEffects admissionregistrationv1.SideEffectClass,
	rule admissionregistrationv1.RuleWithOperations) *admissionregistrationv1.ValidatingWebhookConfiguration {
	url := i.m.webhooks.url(path + i.cluster)
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: managedMeta(name, ""),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    name,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: i.m.webhooks.ca.CertPEM},
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             &sideEffects,
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
			TimeoutSeconds:          ptr.To(int32(15)),
			Rules:                   []admissionregistrationv1.RuleWithOperations{rule},
		}},
	}
}
