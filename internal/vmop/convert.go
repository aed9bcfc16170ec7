package vmop

import (
	"context"
	"net/http"

	vmopapis "github.com/vmware-tanzu/vm-operator/api"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/webhook/conversion"
)

// Scheme returns a runtime.Scheme with every vmoperator.vmware.com version (v1alpha1..v1alpha5) and client-go's built-in types registered.
//
// Each call builds a new Scheme, so a caller that registers more types changes only its own.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	// The module's AddToScheme also registers its generated conversion functions, which the
	// converter for kinds without a hub type relies on.
	utilruntime.Must(vmopapis.AddToScheme(s))
	return s
}

// ConversionHandler serves the apiextensions ConversionReview protocol for those CRDs (controller-runtime's conversion webhook handler over Scheme()).
//
// The handler converts through the hub version (v1alpha5) with the module's ConvertTo and
// ConvertFrom, as VM Operator's own webhook does. VirtualMachineClassInstance, served as v1alpha4
// and v1alpha5, has no hub or convertible types in the module, so controller-runtime alone would
// fail every request for it; the module does ship generated conversion functions between those two
// versions, and a registered converter runs them through the scheme.
func ConversionHandler() http.Handler {
	s := Scheme()
	reg := conversion.NewRegistry()
	utilruntime.Must(reg.RegisterConverter(
		schema.GroupKind{Group: GroupName, Kind: "VirtualMachineClassInstance"},
		schemeConverter{s},
	))
	return conversion.NewWebhookHandler(s, reg)
}

// schemeConverter converts with the conversion functions registered in a scheme.
type schemeConverter struct{ scheme *runtime.Scheme }

func (c schemeConverter) ConvertObject(_ context.Context, src, dst runtime.Object) error {
	return c.scheme.Convert(src, dst, nil)
}
