// Package kube holds the end-to-end tests of the Supervisor's Kubernetes API (issue 11): real
// kube-apiservers and controller managers started by wcpd, driven with client-go as vCenter users.
package kube

import (
	"os"
	"testing"

	"github.com/wcpd/wcpd/internal/kubeproc"
)

// TestMain lets the test binary serve as kube-apiserver and kube-controller-manager when wcpd
// starts it as one.
func TestMain(m *testing.M) {
	kubeproc.RunIfChild()
	os.Exit(m.Run())
}
