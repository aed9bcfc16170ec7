// Package drs owns wcpd's resource model: what each Supervisor, namespace,
// VM and vSphere Pod is entitled to when everything wants everything at once.
//
// It turns a tree of resource pools, VMs and pods (with shares, reservations,
// limits, expandable reservations, scalable shares and container requests and
// limits) into per-node share values, share percentages among siblings,
// admitted reservations and CPU/memory entitlements, plus warnings a person can
// act on. It is pure: no I/O, no clocks, no mutable package state. The what-if API decodes
// straight into [Request] and encodes [Result]; controllers and stats keep a
// [Model] and apply one change at a time. docs/resource-model.md explains the
// rules and the algorithm.
package drs
