package services

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wcpd/wcpd/internal/vapi"
)

// builtinsKey is the metaRecord that says the built-in services were registered.
const builtinsKey = "builtins"

// builtinService is a Supervisor Service wcpd registers by default, as vCenter 8.0U3 does. Its
// content is a real Carvel package that carries its manifests inline (a Deployment of the
// service's controller), so an install applies them and its pod runs as a vSphere Pod; the images
// it names are placeholders that nothing pulls.
type builtinService struct {
	mustBeInstalled bool
	content         string
}

var builtinServices = []builtinService{
	{mustBeInstalled: true, content: `apiVersion: data.packaging.carvel.dev/v1alpha1
kind: PackageMetadata
metadata:
  name: tkg.vsphere.vmware.com
spec:
  displayName: Tanzu Kubernetes Grid Service
  shortDescription: Provisions and manages the lifecycle of Tanzu Kubernetes clusters on the Supervisor.
  providerName: VMware
  categories:
  - Kubernetes
---
apiVersion: data.packaging.carvel.dev/v1alpha1
kind: Package
metadata:
  name: tkg.vsphere.vmware.com.3.0.0
spec:
  refName: tkg.vsphere.vmware.com
  version: 3.0.0
  releasedAt: "2024-06-25T00:00:00Z"
  template:
    spec:
      fetch:
      - inline:
          paths:
            config/tkg-controller-manager.yaml: |
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: tkg-controller-manager
                labels:
                  app: tkg-controller-manager
              spec:
                replicas: 1
                selector:
                  matchLabels:
                    app: tkg-controller-manager
                template:
                  metadata:
                    labels:
                      app: tkg-controller-manager
                  spec:
                    containers:
                    - name: manager
                      image: registry.wcpd.invalid/supervisor-services/tkg-service:3.0.0
                      resources:
                        requests:
                          cpu: 100m
                          memory: 128Mi
      template:
      - ytt:
          paths:
          - config/
      deploy:
      - kapp: {}
  valuesSchema:
    openAPIv3:
      type: object
      additionalProperties: false
      properties: {}
`},
	{content: `apiVersion: data.packaging.carvel.dev/v1alpha1
kind: PackageMetadata
metadata:
  name: velero.vsphere.vmware.com
spec:
  displayName: Velero vSphere Operator
  shortDescription: Installs Velero and its vSphere plugin to back up and restore Supervisor namespaces and their volumes.
  providerName: VMware
  categories:
  - Backup and recovery
---
apiVersion: data.packaging.carvel.dev/v1alpha1
kind: Package
metadata:
  name: velero.vsphere.vmware.com.1.6.1
spec:
  refName: velero.vsphere.vmware.com
  version: 1.6.1
  releasedAt: "2024-03-28T00:00:00Z"
  template:
    spec:
      fetch:
      - inline:
          paths:
            config/velero-vsphere-operator.yaml: |
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: velero-vsphere-operator
                labels:
                  app: velero-vsphere-operator
              spec:
                replicas: 1
                selector:
                  matchLabels:
                    app: velero-vsphere-operator
                template:
                  metadata:
                    labels:
                      app: velero-vsphere-operator
                  spec:
                    containers:
                    - name: manager
                      image: registry.wcpd.invalid/supervisor-services/velero-vsphere-operator:1.6.1
                      resources:
                        requests:
                          cpu: 100m
                          memory: 128Mi
      template:
      - ytt:
          paths:
          - config/
      deploy:
      - kapp: {}
`},
}

// registerBuiltins registers the built-in services on the first start. They go through the same
// checks as any content: wcpd generates an Ed25519 key, puts its public half in the trust store
// (<data-dir>/trust/wcpd-builtin-<key id>.pem), signs each content, and registers it the way a client
// would, so each built-in version is trust_verified. The private key is not kept.
func (f *Family) registerBuiltins(ctx context.Context) error {
	if _, done := f.meta.Get(builtinsKey); done {
		return nil
	}
	dir := f.trustDir()
	if dir == "" {
		return errors.New("no data directory to keep the trust store in")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	id, err := keyID(pub)
	if err != nil {
		return err
	}
	pemBytes, err := publicKeyPEM(pub)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(dir, "wcpd-builtin-"+id[:16]+".pem")
	if err := os.WriteFile(file, pemBytes, 0o644); err != nil {
		return err
	}
	for _, b := range builtinServices {
		signed, err := signEd25519([]byte(b.content), priv)
		if err != nil {
			return err
		}
		var bad invalid
		p, err := f.prepareVersion(versionSource{path: "built-in", form: contentCarvel,
			content: base64.StdEncoding.EncodeToString(signed)}, &bad)
		if err != nil {
			return err
		}
		if !p.trustVerified {
			return fmt.Errorf("built-in Supervisor Service %s does not verify against %s", p.meta.Service, file)
		}
		rec := serviceRecord{ID: p.meta.Service, DisplayName: p.meta.DisplayName, Description: p.meta.Description,
			MustBeInstalled: b.mustBeInstalled}
		if err := f.registerService(ctx, rec, p, true); err != nil && vapi.AsError(err).Type != vapi.ErrorAlreadyExists {
			return err
		}
	}
	_, err = f.meta.Put(ctx, builtinsKey, metaRecord{BuiltinsRegistered: f.now(), TrustKeyFile: file})
	return err
}
