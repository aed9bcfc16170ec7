package vmop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/fake"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
)

const (
	testURL = "https://wcpd.example:8443/vmop/convert"
	testCA  = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"
	hub     = "v1alpha5"
)

// vgpuConfigSpec is seed 004's vGPU class config spec in vSphere's discriminator JSON.
const vgpuConfigSpec = `{"_typeName":"VirtualMachineConfigSpec","deviceChange":[{"_typeName":"VirtualDeviceConfigSpec","device":{"_typeName":"VirtualPCIPassthrough","backing":{"_typeName":"VirtualPCIPassthroughVmiopBackingInfo","vgpu":"grid_t4-16c"},"key":0},"operation":"add"}]}`

func testCRDs(t *testing.T) []*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := CRDs(testURL, []byte(testCA))
	if err != nil {
		t.Fatal(err)
	}
	return crds
}

func byKind(crds []*apiextensionsv1.CustomResourceDefinition) map[string]*apiextensionsv1.CustomResourceDefinition {
	m := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, crd := range crds {
		m[crd.Spec.Names.Kind] = crd
	}
	return m
}

func version(crd *apiextensionsv1.CustomResourceDefinition, name string) *apiextensionsv1.CustomResourceDefinitionVersion {
	for i := range crd.Spec.Versions {
		if crd.Spec.Versions[i].Name == name {
			return &crd.Spec.Versions[i]
		}
	}
	return nil
}

func TestCRDs(t *testing.T) {
	crds := testCRDs(t)
	kinds := byKind(crds)
	if len(kinds) != len(crds) {
		t.Errorf("%d CRDs for %d kinds", len(crds), len(kinds))
	}
	for _, crd := range crds {
		if crd.Spec.Group != GroupName {
			t.Errorf("%s: group %q", crd.Name, crd.Spec.Group)
		}
		if want := crd.Spec.Names.Plural + "." + GroupName; crd.Name != want {
			t.Errorf("CRD named %q, want %q", crd.Name, want)
		}
		var storage []string
		for _, v := range crd.Spec.Versions {
			if v.Storage {
				storage = append(storage, v.Name)
			}
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				t.Errorf("%s %s: no schema", crd.Name, v.Name)
			}
		}
		if len(storage) != 1 {
			t.Errorf("%s: storage versions %v", crd.Name, storage)
		}
		if len(crd.Spec.Versions) == 1 {
			if crd.Spec.Conversion != nil {
				t.Errorf("%s: single version, conversion %+v", crd.Name, crd.Spec.Conversion)
			}
			continue
		}
		// Every multi-version CRD stores the hub version and converts through the webhook.
		if storage[0] != hub {
			t.Errorf("%s: storage version %s, want %s", crd.Name, storage[0], hub)
		}
		conv := crd.Spec.Conversion
		if conv == nil || conv.Strategy != apiextensionsv1.WebhookConverter || conv.Webhook == nil || conv.Webhook.ClientConfig == nil {
			t.Errorf("%s: conversion %+v", crd.Name, conv)
			continue
		}
		if !slices.Equal(conv.Webhook.ConversionReviewVersions, []string{"v1"}) {
			t.Errorf("%s: review versions %v", crd.Name, conv.Webhook.ConversionReviewVersions)
		}
		cc := conv.Webhook.ClientConfig
		if cc.URL == nil || *cc.URL != testURL || cc.Service != nil || string(cc.CABundle) != testCA {
			t.Errorf("%s: client config %+v", crd.Name, cc)
		}
	}
	for _, kind := range []string{
		"VirtualMachine", "VirtualMachineClass", "VirtualMachineImage", "ClusterVirtualMachineImage",
		"VirtualMachineService", "VirtualMachinePublishRequest", "VirtualMachineSetResourcePolicy",
	} {
		crd := kinds[kind]
		if crd == nil {
			t.Errorf("no CRD for %s", kind)
			continue
		}
		if v := version(crd, hub); v == nil || !v.Storage || !v.Served {
			t.Errorf("%s: %s is not the served storage version", kind, hub)
		}
		if v := version(crd, "v1alpha3"); v == nil || !v.Served {
			t.Errorf("%s: v1alpha3 not served", kind)
		}
	}
	if s := kinds["ClusterVirtualMachineImage"].Spec.Scope; s != apiextensionsv1.ClusterScoped {
		t.Errorf("ClusterVirtualMachineImage scope %s", s)
	}
}

func TestCRDsCopies(t *testing.T) {
	a := byKind(testCRDs(t))["VirtualMachine"]
	a.Spec.Versions[0].Name = "changed"
	*a.Spec.Conversion.Webhook.ClientConfig.URL = "https://changed.example"
	a.Spec.Conversion.Webhook.ClientConfig.CABundle[0] = 'x'
	b := byKind(testCRDs(t))["VirtualMachine"]
	if b.Spec.Versions[0].Name == "changed" || *b.Spec.Conversion.Webhook.ClientConfig.URL != testURL ||
		string(b.Spec.Conversion.Webhook.ClientConfig.CABundle) != testCA {
		t.Error("a caller's change to one result shows in the next")
	}
	crds, err := CRDs("https://other.example/convert", []byte(testCA))
	if err != nil {
		t.Fatal(err)
	}
	if u := *byKind(crds)["VirtualMachine"].Spec.Conversion.Webhook.ClientConfig.URL; u != "https://other.example/convert" {
		t.Errorf("conversion URL %s", u)
	}
}

func TestCRDsRejects(t *testing.T) {
	for _, c := range []struct {
		url string
		ca  string
	}{
		{"http://wcpd.example/convert", testCA},
		{"/convert", testCA},
		{"https://wcpd.example/convert", ""},
	} {
		if _, err := CRDs(c.url, []byte(c.ca)); err == nil {
			t.Errorf("CRDs(%q, %q) accepted", c.url, c.ca)
		}
	}
}

// review sends objects to the handler for conversion to desired and returns the converted objects.
func review(t *testing.T, h http.Handler, desired string, objects ...[]byte) []json.RawMessage {
	t.Helper()
	req := apiextensionsv1.ConversionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "ConversionReview"},
		Request:  &apiextensionsv1.ConversionRequest{UID: types.UID("review-1"), DesiredAPIVersion: desired},
	}
	for _, o := range objects {
		req.Request.Objects = append(req.Request.Objects, runtime.RawExtension{Raw: o})
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/convert", bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	// Decoded as the apiserver does, into the apiextensions types of the review it sent.
	var resp struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Response   *struct {
			UID              types.UID         `json:"uid"`
			ConvertedObjects []json.RawMessage `json:"convertedObjects"`
			Result           metav1.Status     `json:"result"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	if resp.APIVersion != "apiextensions.k8s.io/v1" || resp.Kind != "ConversionReview" || resp.Response == nil {
		t.Fatalf("response %s", rec.Body)
	}
	if resp.Response.UID != "review-1" {
		t.Errorf("response uid %q", resp.Response.UID)
	}
	if resp.Response.Result.Status != metav1.StatusSuccess {
		t.Fatalf("to %s: %+v", desired, resp.Response.Result)
	}
	if len(resp.Response.ConvertedObjects) != len(objects) {
		t.Fatalf("%d objects converted, %d sent", len(resp.Response.ConvertedObjects), len(objects))
	}
	return resp.Response.ConvertedObjects
}

type classObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		UID       string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		Hardware struct {
			Cpus   int64  `json:"cpus"`
			Memory string `json:"memory"`
		} `json:"hardware"`
		ConfigSpec json.RawMessage `json:"configSpec"`
	} `json:"spec"`
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return buf.String()
}

func TestConversionHandlerVirtualMachineClass(t *testing.T) {
	h := ConversionHandler()
	// Indented, as a client may have written it: the comparison is of compact JSON.
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(vgpuConfigSpec), "", "  "); err != nil {
		t.Fatal(err)
	}
	in := []byte(`{
		"apiVersion": "vmoperator.vmware.com/v1alpha3",
		"kind": "VirtualMachineClass",
		"metadata": {"name": "vgpu-t4", "namespace": "ns-1", "uid": "5b0c3d9e-0000-4000-8000-000000000004"},
		"spec": {
			"hardware": {"cpus": 4, "memory": "16Gi"},
			"configSpec": ` + indented.String() + `
		}
	}`)
	check := func(raw []byte, apiVersion string) {
		t.Helper()
		var got classObject
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if got.APIVersion != apiVersion || got.Kind != "VirtualMachineClass" {
			t.Errorf("converted to %s %s, want %s VirtualMachineClass", got.APIVersion, got.Kind, apiVersion)
		}
		if got.Metadata.Name != "vgpu-t4" || got.Metadata.Namespace != "ns-1" || got.Metadata.UID != "5b0c3d9e-0000-4000-8000-000000000004" {
			t.Errorf("%s: metadata %+v", apiVersion, got.Metadata)
		}
		if got.Spec.Hardware.Cpus != 4 || got.Spec.Hardware.Memory != "16Gi" {
			t.Errorf("%s: hardware %+v", apiVersion, got.Spec.Hardware)
		}
		if c := compact(t, got.Spec.ConfigSpec); c != vgpuConfigSpec {
			t.Errorf("%s: configSpec\n got %s\nwant %s", apiVersion, c, vgpuConfigSpec)
		}
	}
	up := review(t, h, GroupName+"/"+hub, in)[0]
	check(up, GroupName+"/"+hub)
	down := review(t, h, GroupName+"/v1alpha3", up)[0]
	check(down, GroupName+"/v1alpha3")
}

// TestConversionHandlerEveryKind converts an object of every kind of every multi-version CRD from
// each served version to each other one: the apiserver may ask for any pair, and a kind the
// handler cannot convert makes that CRD unreadable in all but its storage version.
func TestConversionHandlerEveryKind(t *testing.T) {
	h := ConversionHandler()
	for _, crd := range testCRDs(t) {
		if len(crd.Spec.Versions) < 2 {
			continue
		}
		kind := crd.Spec.Names.Kind
		for _, from := range crd.Spec.Versions {
			for _, to := range crd.Spec.Versions {
				if to.Name == from.Name {
					continue
				}
				obj := map[string]any{
					"apiVersion": GroupName + "/" + from.Name,
					"kind":       kind,
					"metadata":   map[string]any{"name": "x", "uid": "u-" + from.Name, "labels": map[string]any{"l": "v"}},
				}
				if crd.Spec.Scope == apiextensionsv1.NamespaceScoped {
					obj["metadata"].(map[string]any)["namespace"] = "ns"
				}
				b, err := json.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				got := review(t, h, GroupName+"/"+to.Name, b)
				var meta struct {
					APIVersion string `json:"apiVersion"`
					Kind       string `json:"kind"`
					Metadata   struct {
						Name   string            `json:"name"`
						UID    string            `json:"uid"`
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
				}
				if err := json.Unmarshal(got[0], &meta); err != nil {
					t.Fatal(err)
				}
				if meta.APIVersion != GroupName+"/"+to.Name || meta.Kind != kind ||
					meta.Metadata.Name != "x" || meta.Metadata.UID != "u-"+from.Name || meta.Metadata.Labels["l"] != "v" {
					t.Errorf("%s %s -> %s: got %+v", kind, from.Name, to.Name, meta)
				}
			}
		}
	}
}

func TestConversionHandlerBadRequest(t *testing.T) {
	rec := httptest.NewRecorder()
	ConversionHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/convert", bytes.NewReader([]byte("not json"))))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d", rec.Code)
	}
}

func TestScheme(t *testing.T) {
	s := Scheme()
	for _, gvk := range []schema.GroupVersionKind{
		{Group: GroupName, Version: "v1alpha1", Kind: "VirtualMachine"},
		{Group: GroupName, Version: "v1alpha2", Kind: "VirtualMachine"},
		{Group: GroupName, Version: "v1alpha3", Kind: "VirtualMachine"},
		{Group: GroupName, Version: "v1alpha4", Kind: "VirtualMachine"},
		{Group: GroupName, Version: "v1alpha5", Kind: "VirtualMachine"},
		{Group: "", Version: "v1", Kind: "Pod"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
	} {
		if !s.Recognizes(gvk) {
			t.Errorf("%s not registered", gvk)
		}
	}
	// Every kind of every served version of the CRDs has a Go type, or the webhook could not
	// decode it.
	for _, crd := range testCRDs(t) {
		for _, v := range crd.Spec.Versions {
			gvk := schema.GroupVersionKind{Group: GroupName, Version: v.Name, Kind: crd.Spec.Names.Kind}
			if !s.Recognizes(gvk) {
				t.Errorf("%s not registered", gvk)
			}
		}
	}
	if Scheme() == s {
		t.Error("Scheme shares one scheme between callers")
	}
}

// establishOnWrite makes the fake apiserver report every CRD written as Established, as a real one
// does shortly after.
func establishOnWrite(c *fake.Clientset) {
	mark := func(a k8stesting.Action) (bool, runtime.Object, error) {
		var obj runtime.Object
		switch a := a.(type) {
		case k8stesting.CreateAction:
			obj = a.GetObject()
		case k8stesting.UpdateAction:
			obj = a.GetObject()
		}
		crd := obj.(*apiextensionsv1.CustomResourceDefinition)
		crd.Status.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionTrue},
			{Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue},
		}
		return false, nil, nil // let the object tracker store it
	}
	c.PrependReactor("create", "customresourcedefinitions", mark)
	c.PrependReactor("update", "customresourcedefinitions", mark)
}

func TestInstall(t *testing.T) {
	// An existing VirtualMachine CRD from an older install, with a label someone else set.
	old := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "virtualmachines." + GroupName, Labels: map[string]string{"keep": "me"}},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: GroupName,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: "VirtualMachine", Plural: "virtualmachines"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
				{Name: "v1alpha1", Served: true, Storage: true},
			},
		},
	}
	c := fake.NewClientset(old)
	establishOnWrite(c)
	if err := Install(context.Background(), c, testURL, []byte(testCA)); err != nil {
		t.Fatal(err)
	}
	list, err := c.ApiextensionsV1().CustomResourceDefinitions().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := testCRDs(t)
	if len(list.Items) != len(want) {
		t.Fatalf("%d CRDs installed, want %d", len(list.Items), len(want))
	}
	vm, err := c.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), old.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vm.Labels["keep"] != "me" {
		t.Errorf("labels %v", vm.Labels)
	}
	if v := version(vm, hub); v == nil || !v.Storage {
		t.Error("existing CRD not updated to the generated spec")
	}
	if vm.Spec.Conversion == nil || vm.Spec.Conversion.Strategy != apiextensionsv1.WebhookConverter {
		t.Errorf("conversion %+v", vm.Spec.Conversion)
	}
	// A second install over the first changes nothing and succeeds.
	if err := Install(context.Background(), c, testURL, []byte(testCA)); err != nil {
		t.Fatal(err)
	}
}

func TestInstallWaitsForEstablished(t *testing.T) {
	c := fake.NewClientset() // nothing ever marks the CRDs Established
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Install(ctx, c, testURL, []byte(testCA))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Install with a done context and no Established CRD: %v", err)
	}
}

func TestInstallNamesNotAccepted(t *testing.T) {
	c := fake.NewClientset()
	c.PrependReactor("create", "customresourcedefinitions", func(a k8stesting.Action) (bool, runtime.Object, error) {
		crd := a.(k8stesting.CreateAction).GetObject().(*apiextensionsv1.CustomResourceDefinition)
		crd.Status.Conditions = []apiextensionsv1.CustomResourceDefinitionCondition{
			{Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionFalse, Reason: "ListKindConflict", Message: "taken"},
		}
		return false, nil, nil
	})
	err := Install(context.Background(), c, testURL, []byte(testCA))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("ListKindConflict")) {
		t.Errorf("Install with refused names: %v", err)
	}
}
