package vmservice

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vmware/govmomi/vapi/library"
	"github.com/vmware/govmomi/vapi/vcenter"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/vmop"
)

// reconcilePublish carries out a VirtualMachinePublishRequest: the source VM (of the request's name
// unless it names another) becomes an OVF item of a writable library of the namespace (the one
// spec.target.location names, by library id or name, else the first), named as spec.target.item
// says (else "<vm>-image"); the namespace then gets the new image, whose name the status reports.
func (c *Controller) reconcilePublish(ctx context.Context, cluster string, cl client.Client, namespace, name string) (controller.Result, error) {
	var pr vmopv1.VirtualMachinePublishRequest
	if err := cl.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &pr); err != nil {
		return controller.Result{}, client.IgnoreNotFound(err)
	}
	if pr.DeletionTimestamp != nil || meta.IsStatusConditionTrue(pr.Status.Conditions, vmopv1.VirtualMachinePublishRequestConditionComplete) {
		return controller.Result{}, nil
	}
	before := pr.Status.DeepCopy()
	retry, err := c.publish(ctx, cl, &pr)
	if before.StartTime.IsZero() {
		pr.Status.StartTime = metav1.Now()
	}
	if !equality.Semantic.DeepEqual(before, &pr.Status) {
		if uerr := cl.Status().Update(ctx, &pr); uerr != nil && !apierrors.IsConflict(uerr) {
			return controller.Result{}, uerr
		}
	}
	return controller.Result{RequeueAfter: retry}, err
}

func (c *Controller) publish(ctx context.Context, cl client.Client, pr *vmopv1.VirtualMachinePublishRequest) (retry time.Duration, err error) {
	fail := func(reason, msg string) {
		meta.SetStatusCondition(&pr.Status.Conditions, metav1.Condition{Type: vmopv1.VirtualMachinePublishRequestConditionComplete,
			Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: pr.Generation})
	}
	source := pr.Spec.Source.Name
	if source == "" {
		source = pr.Name
	}
	var vm vmopv1.VirtualMachine
	if err := cl.Get(ctx, client.ObjectKey{Namespace: pr.Namespace, Name: source}, &vm); apierrors.IsNotFound(err) || (err == nil && vm.Status.UniqueID == "") {
		fail("SourceNotReady", fmt.Sprintf("spec.source.name: VirtualMachine %q has no VM (yet) in namespace %s", source, pr.Namespace))
		return waitForInput, nil
	} else if err != nil {
		return 0, err
	}
	rz, _ := c.fams.Namespaces.Realisation(pr.Namespace)
	libraryID, err := c.targetLibrary(ctx, rz.WritableLibraries, pr.Spec.Target.Location.Name)
	if err != nil {
		fail("TargetInvalid", err.Error())
		return waitForInput, nil
	}
	itemName := pr.Spec.Target.Item.Name
	if itemName == "" {
		itemName = source + "-image"
	}
	m := library.NewManager(c.inv.RESTClient())
	itemID := ""
	if ids, err := m.FindLibraryItems(ctx, library.FindItem{LibraryID: libraryID, Name: itemName}); err != nil {
		return 0, err
	} else if len(ids) > 0 {
		itemID = ids[0] // published before a crash, before the status said so
	}
	if itemID == "" {
		pr.Status.Attempts++
		pr.Status.LastAttemptTime = metav1.Now()
		res, err := vcenter.NewManager(c.inv.RESTClient()).CreateOVF(ctx, vcenter.OVF{
			Spec:   vcenter.CreateSpec{Name: itemName, Description: pr.Spec.Target.Item.Description},
			Source: vcenter.ResourceID{Type: "VirtualMachine", Value: vm.Status.UniqueID},
			Target: vcenter.LibraryTarget{LibraryID: libraryID},
		})
		if err != nil {
			fail("UploadFailure", fmt.Sprintf("publishing VM %s to library %s: %v", vm.Status.UniqueID, libraryID, err))
			return 0, err
		}
		itemID = res
	}
	pr.Status.ImageName = vmop.ImageName(itemID)
	pr.Status.Ready = true
	pr.Status.CompletionTime = metav1.Now()
	pr.Status.SourceRef = &vmopv1.VirtualMachinePublishRequestSource{Name: source, Kind: "VirtualMachine", APIVersion: vmopv1.GroupVersion.String()}
	meta.SetStatusCondition(&pr.Status.Conditions, metav1.Condition{Type: vmopv1.VirtualMachinePublishRequestConditionComplete,
		Status: metav1.ConditionTrue, Reason: "True", Message: "published as library item " + itemID, ObservedGeneration: pr.Generation})
	if c.imagesChanged != nil {
		c.imagesChanged(pr.Namespace)
	}
	return 0, nil
}

// targetLibrary picks the writable library a request names (by id or name), or the first one.
func (c *Controller) targetLibrary(ctx context.Context, writable []string, want string) (string, error) {
	if len(writable) == 0 {
		return "", fmt.Errorf("spec.target.location: the namespace has no writable content library; the administrator marks one writable")
	}
	if want == "" {
		return writable[0], nil
	}
	for _, id := range writable {
		if strings.EqualFold(id, want) {
			return id, nil
		}
		if lib, err := c.inv.ContentLibrary(ctx, id); err == nil && lib.Name == want {
			return id, nil
		}
	}
	return "", fmt.Errorf("spec.target.location.name: %q is not a writable content library of the namespace", want)
}
