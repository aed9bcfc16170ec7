package inventory

import (
	"bytes"
	"io"
	"net/http"
	"regexp"

	"github.com/vmware/govmomi/vim25/types"
)

// Distributed switches are VmwareDistributedVirtualSwitch to clients, as in vCenter, where every
// switch made from a VMware configuration has that type. The simulator cannot hold one under that
// type: it registers each switch it makes (Folder.CreateDVSTask) as the abstract
// DistributedVirtualSwitch, its Go object embeds mo.DistributedVirtualSwitch, and every change it
// makes to an object (Registry.Update, on each task the switch runs and in its own methods) looks
// the property layout up by the MoRef's type name. A switch whose MoRef says
// VmwareDistributedVirtualSwitch gets mo.VmwareDistributedVirtualSwitch's field indices applied
// to the base struct, and the first change to it panics. Every switch the simulator makes is a
// VMware one (its configuration is always a VMwareDVSConfigInfo), so the simulator keeps the
// abstract type and wcpd presents the concrete one on the SOAP wire:
//
//   - in answers, every MoRef of type DistributedVirtualSwitch is one of type
//     VmwareDistributedVirtualSwitch (presentSwitches);
//   - in requests, a MoRef of type VmwareDistributedVirtualSwitch, and that type name where a
//     request names a managed object type (a property or traversal spec's type, a container
//     view's types, a custom field's moType), are handed to the simulator as
//     DistributedVirtualSwitch (acceptSwitches). A request naming the abstract type still works.
//
// Both wcpd's listener (SOAPHandler) and the inventory's internal client do this, so wcpd's own
// code sees what clients see. The simulator, the objects' Go values and the store keep the
// abstract type: ids and stored keys (inventory/objects/DistributedVirtualSwitch/<id>) are the
// same as before switches were presented this way, and data dirs written before still load.
const (
	switchType       = "DistributedVirtualSwitch"
	vmwareSwitchType = "VmwareDistributedVirtualSwitch"
)

var (
	// A MoRef's type attribute as the simulator writes it (the only unqualified attribute named
	// type in vim25 XML; the leading space keeps xsi:type out). Answers are the simulator's own
	// encoding, so a plain search is exact, and cheap on the large ones.
	abstractSwitchAttr = []byte(` type="` + switchType + `"`)
	vmwareSwitchAttr   = []byte(` type="` + vmwareSwitchType + `"`)
	// In requests, which clients encode, the same attribute however it is spelled ...
	vmwareSwitchRef = regexp.MustCompile(`(\stype\s*=\s*["'])` + vmwareSwitchType + `(["'])`)
	// ... and an element that names a managed object type, with or without a namespace prefix.
	vmwareSwitchTypeName = regexp.MustCompile(`(<(?:[\w.-]+:)?(?:type|moType)>)\s*` + vmwareSwitchType + `\s*(</)`)
)

// presentSwitches rewrites a SOAP answer of the simulator's for clients.
func presentSwitches(body []byte) []byte {
	if !bytes.Contains(body, abstractSwitchAttr) {
		return body
	}
	return bytes.ReplaceAll(body, abstractSwitchAttr, vmwareSwitchAttr)
}

// acceptSwitches rewrites a client's SOAP request for the simulator.
func acceptSwitches(body []byte) []byte {
	if !bytes.Contains(body, []byte(vmwareSwitchType)) {
		return body
	}
	body = vmwareSwitchRef.ReplaceAll(body, []byte("${1}"+switchType+"${2}"))
	return vmwareSwitchTypeName.ReplaceAll(body, []byte("${1}"+switchType+"${2}"))
}

// simulatorRef is ref as the simulator knows it.
func simulatorRef(ref types.ManagedObjectReference) types.ManagedObjectReference {
	if ref.Type == vmwareSwitchType {
		ref.Type = switchType
	}
	return ref
}

// isSOAPCall says whether r is a vim25 SOAP call (whose body and answer name switches).
func isSOAPCall(r *http.Request) bool {
	return r.Method == http.MethodPost && (r.URL.Path == "/sdk" || r.URL.Path == "/sdk/vimService")
}

// switchTypes is the internal client's side of the translation: it sits between the SOAP client
// and its HTTP transport. Anything but a SOAP call (a datastore file, say) passes as it is.
type switchTypes struct{ next http.RoundTripper }

func (t switchTypes) RoundTrip(r *http.Request) (*http.Response, error) {
	if !isSOAPCall(r) {
		return t.next.RoundTrip(r)
	}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = acceptSwitches(body)
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		r.Header.Del("Content-Length")
	}
	res, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	body = presentSwitches(body)
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Del("Content-Length")
	return res, nil
}

// copyTo sends the recorded answer to w with body in place of the recorded one.
func (b *bufferedResponse) copyTo(w http.ResponseWriter, body []byte) {
	for k, v := range b.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
