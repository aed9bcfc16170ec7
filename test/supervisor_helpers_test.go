package test

import (
	"testing"

	"github.com/wcpd/wcpd/internal/servertest"
)

// Ids of the default inventory (docs/inventory.md).
const (
	clusterA       = "domain-c9"
	clusterB       = "domain-c39"
	clusterEdge    = "domain-c69"
	policyGold     = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c01"
	policySilver   = "c0a8d3e1-5b6f-4f2e-8a7d-1e2f3a4b5c02"
	portgroupMgmt  = "dvportgroup-87"
	portgroupWork  = "dvportgroup-88"
	distributedSwi = "dvs-82"
)

// vsphereEnableSpec is servertest.VSphereEnableSpec (the valid EnableSpec of the default inventory).
func vsphereEnableSpec(octet int) map[string]any { return servertest.VSphereEnableSpec(octet) }

// enableSupervisor enables a Supervisor on cluster and settles until it is RUNNING.
func enableSupervisor(t *testing.T, env *servertest.Env, token, cluster string, octet int) {
	t.Helper()
	env.For(t).EnableSupervisor(token, cluster, octet)
}
