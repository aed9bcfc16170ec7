package kube

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wcpd/wcpd/internal/servertest"
)

// TestDisableRemovesTheAPIServerAndItsData: disabling the Supervisor removes its namespaces from
// Kubernetes, then stops its API server and deletes its etcd prefix and certificates.
func TestDisableRemovesTheAPIServerAndItsData(t *testing.T) {
	env, admin := supervisorWithKubernetes(t)
	if r := env.Do("POST", "/api/vcenter/namespaces/instances", admin, map[string]any{"cluster": clusterA, "namespace": "doomed"}); r.Status != 204 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	st, _ := env.Server.Kubernetes.APIServer(clusterA)
	ctx := context.Background()
	eventually(t, "the etcd prefix holds the Supervisor's objects", func(ctx context.Context) (bool, error) {
		n, err := env.Server.Store.CountPrefix(ctx, "kube/"+clusterA+"/")
		return n > 0, err
	})
	dir := filepath.Join(env.Server.DataDir(), "kubernetes", "supervisors", clusterA)
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the Supervisor's directory: %v", err)
	}
	if r := env.Do("POST", "/api/vcenter/namespace-management/clusters/"+clusterA+"?action=disable", admin, nil); r.Status != 204 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	eventually(t, "the Supervisor is gone", func(ctx context.Context) (bool, error) {
		env.Settle(10 * time.Second)
		var info struct {
			ConfigStatus string `json:"config_status"`
		}
		r := env.Do("GET", "/api/vcenter/namespace-management/clusters/"+clusterA, admin, nil)
		r.JSON(t, &info)
		return info.ConfigStatus == "", nil
	})
	eventually(t, "the API server, its data and its directory are gone", func(ctx context.Context) (bool, error) {
		_, running := env.Server.Kubernetes.APIServer(clusterA)
		n, err := env.Server.Store.CountPrefix(ctx, "kube/"+clusterA+"/")
		_, statErr := os.Stat(dir)
		return !running && n == 0 && os.IsNotExist(statErr), err
	})
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(st.Endpoint, "https://"), time.Second); err == nil {
		c.Close()
		t.Fatalf("something still listens at %s", st.Endpoint)
	}
	_ = ctx
}

// TestAPIServerFailureIsReported: an API server that cannot start (its port was taken while wcpd
// was stopped) shows in the Supervisor's kubernetes_status and conditions with the reason, wcpd
// keeps serving, and the API server comes up once the port is free.
func TestAPIServerFailureIsReported(t *testing.T) {
	dataDir := t.TempDir()
	first, admin := supervisorWithKubernetes(t, servertest.WithDataDir(dataDir))
	st, _ := first.Server.Kubernetes.APIServer(clusterA)
	if err := first.Server.Close(); err != nil {
		t.Fatal(err)
	}
	var taken net.Listener
	eventually(t, "the API server's port can be taken", func(ctx context.Context) (bool, error) {
		l, err := net.Listen("tcp", strings.TrimPrefix(st.Endpoint, "https://"))
		taken = l
		return err == nil, err
	})
	defer taken.Close()

	env := servertest.New(t, servertest.WithKubernetes(), servertest.WithDataDir(dataDir))
	admin = env.AdminToken()
	type condition struct {
		Type, Status, Reason string
		Messages             []struct {
			Details struct {
				DefaultMessage string `json:"default_message"`
			} `json:"details"`
		}
	}
	var sup struct {
		ConfigStatus       string      `json:"config_status"`
		KubernetesStatus   string      `json:"kubernetes_status"`
		Conditions         []condition `json:"conditions"`
		KubernetesMessages []struct {
			Details struct {
				DefaultMessage string `json:"default_message"`
			} `json:"details"`
		} `json:"kubernetes_status_messages"`
	}
	var last []byte
	defer func() {
		if t.Failed() {
			t.Logf("the Supervisor last read: %s", last)
		}
	}()
	eventually(t, "the Supervisor reports the API server's failure", func(ctx context.Context) (bool, error) {
		r := env.Do("GET", "/api/vcenter/namespace-management/clusters/"+clusterA, admin, nil)
		last = r.Body
		r.JSON(t, &sup)
		for _, c := range sup.Conditions {
			if c.Type == "KubernetesAPIServerReady" && c.Status == "FALSE" && c.Reason == "APIServerFailed" &&
				len(c.Messages) > 0 && strings.Contains(c.Messages[0].Details.DefaultMessage, "address already in use") {
				return sup.KubernetesStatus == "ERROR", nil
			}
		}
		return false, nil
	})
	if sup.ConfigStatus != "RUNNING" {
		t.Errorf("config_status %s: the Supervisor itself is configured", sup.ConfigStatus)
	}
	taken.Close()
	eventually(t, "the API server starts once its port is free", func(ctx context.Context) (bool, error) {
		st, ok := env.Server.Kubernetes.APIServer(clusterA)
		return ok && st.Ready, nil
	})
	eventually(t, "the Supervisor reports it READY", func(ctx context.Context) (bool, error) {
		env.Do("GET", "/api/vcenter/namespace-management/clusters/"+clusterA, admin, nil).JSON(t, &sup)
		return sup.KubernetesStatus == "READY", nil
	})
}
