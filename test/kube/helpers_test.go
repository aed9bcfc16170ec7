package kube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/wcpd/wcpd/internal/kubeapi"
	"github.com/wcpd/wcpd/internal/servertest"
	"github.com/wcpd/wcpd/internal/vmop"
)

const (
	clusterA   = "domain-c9"
	policyGold = servertest.PolicyGold
	libraryVM  = "8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01"
	// kubeWait bounds waits on the real Kubernetes processes (start-up, controllers).
	kubeWait = 2 * time.Minute
)

// supervisorWithKubernetes starts wcpd with the Kubernetes side on, enables a Supervisor on
// cluster A and waits for its API server.
func supervisorWithKubernetes(t *testing.T, opts ...servertest.Option) (*servertest.Env, string) {
	t.Helper()
	env := servertest.New(t, append([]servertest.Option{servertest.WithKubernetes()}, opts...)...)
	admin := env.AdminToken()
	env.EnableSupervisor(admin, clusterA, 1)
	ctx, cancel := context.WithTimeout(context.Background(), kubeWait)
	defer cancel()
	if st, err := env.Server.Kubernetes.WaitReady(ctx, clusterA); err != nil {
		t.Fatalf("the Supervisor's API server is not ready: %v (%+v)", err, st)
	}
	return env, admin
}

// login calls the Kubernetes login as user and returns what it answered.
func login(t *testing.T, env *servertest.Env, user, password string) kubeapi.LoginInfo {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/api/wcpd/kubernetes/login", nil)
	req.SetBasicAuth(user, password)
	res, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info kubeapi.LoginInfo
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: %s", user, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info
}

// supervisorOf finds cluster's Supervisor in a login answer.
func supervisorOf(t *testing.T, info kubeapi.LoginInfo, cluster string) kubeapi.SupervisorInfo {
	t.Helper()
	for _, s := range info.Supervisors {
		if s.Cluster == cluster {
			return s
		}
	}
	t.Fatalf("login does not report the Supervisor on %s: %+v", cluster, info)
	return kubeapi.SupervisorInfo{}
}

// clients are client-go and controller-runtime clients for one user of one Supervisor, and their
// configuration.
type clients struct {
	kube   kubernetes.Interface
	ctrl   client.Client
	config *rest.Config
}

// userClients builds clients that present token to the Supervisor's API server.
func userClients(t *testing.T, s kubeapi.SupervisorInfo, token string) clients {
	t.Helper()
	cfg := &rest.Config{Host: s.Server, BearerToken: token, Timeout: 30 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte(s.CertificateAuthority)}}
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: vmop.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return clients{kube: k, ctrl: c, config: cfg}
}

// adminVim25 is a vSphere API client logged in as the administrator.
func adminVim25(t *testing.T, ctx context.Context, env *servertest.Env) *vim25.Client {
	t.Helper()
	vc := env.Vim25(ctx)
	if err := session.NewManager(vc).Login(ctx, url.UserPassword(servertest.Admin, servertest.AdminPassword)); err != nil {
		t.Fatal(err)
	}
	return vc
}

// eventually waits up to kubeWait for cond (servertest.Eventually).
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	servertest.Eventually(t, what, kubeWait, cond)
}
