package main

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/wcpd/wcpd/internal/govctest"
	"github.com/wcpd/wcpd/internal/servertest"
)

// TestInventorySurvivesKill9: one object of each kind a client makes through /sdk, PBM and the
// vAPI services is there after wcpd is killed with SIGKILL and started again on its data dir,
// with the same ids.
func TestInventorySurvivesKill9(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	w := startServe(t, dataDir)
	govc := func(w *wcpdProcess) govctest.Target {
		u, _ := url.Parse(w.url + "/sdk")
		u.User = url.UserPassword(servertest.Admin, servertest.AdminPassword)
		return govctest.Target{URL: u.String()}
	}
	g := govc(w)
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("kept across a kill -9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"folder.create", "/Datacenter/vm/by-hand"},
		{"pool.create", "-mem.reservation", "512", "/Datacenter/host/Cluster-B/Resources/by-hand"},
		{"vm.create", "-folder", "/Datacenter/vm/by-hand", "-pool", "/Datacenter/host/Cluster-B/Resources/by-hand",
			"-ds", "SharedDatastore", "-net", "DPG-Management", "-on=false", "by-hand-vm"},
		{"library.create", "-ds", "SharedDatastore", "by-hand-lib"},
		{"library.import", "-n", "notes", "by-hand-lib", file},
		{"tags.category.create", "rack"},
		{"tags.create", "-c", "rack", "rack-1"},
		{"tags.attach", "-c", "rack", "rack-1", "/Datacenter/vm/by-hand/by-hand-vm"},
		{"storage.policy.create", "-category", "rack", "-tag", "rack-1", "by-hand-policy"},
	} {
		if out, errOut, code := g.Run(cmd[0], cmd[1:]...); code != 0 {
			t.Fatalf("govc %v: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
	view := [][]string{
		{"ls", "-i", "/Datacenter/vm/by-hand", "/Datacenter/host/Cluster-B/Resources"},
		{"object.collect", "-s", "/Datacenter/vm/by-hand/by-hand-vm", "config.uuid", "config.instanceUuid", "resourcePool"},
		{"library.ls", "-json", "/by-hand-lib/*"},
		{"tags.ls", "-json"},
		{"tags.attached.ls", "rack-1"},
		{"storage.policy.ls", "-i", "by-hand-policy"},
	}
	before := g.Transcript(view...)
	for _, want := range []string{"VirtualMachine:vm-", "ResourcePool:resgroup-", "notes", "rack-1", "\"id\""} {
		if !strings.Contains(before, want) {
			t.Fatalf("before the kill, %q is missing:\n%s", want, before)
		}
	}

	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()
	w = startServe(t, dataDir)
	if after := govc(w).Transcript(view...); after != before {
		t.Errorf("after kill -9 and a restart the inventory differs\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
