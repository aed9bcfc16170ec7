package clusters

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wcpd/wcpd/internal/store"
	"github.com/wcpd/wcpd/internal/vapi"
)

// release is one Supervisor Kubernetes release of wcpd's catalogue (docs/supervisors.md). The
// versions follow vSphere's spelling: Kubernetes version, VMware build, Supervisor build.
type release struct {
	Version string
	Date    time.Time
	Notes   string
}

var releases = []release{
	{"v1.26.8+vmware.1-fips.1-vsc0.1.7-22546389", day(2023, 9, 21), "Kubernetes 1.26.8; last release of the 1.26 line."},
	{"v1.27.5+vmware.1-fips.1-vsc0.1.8-22795924", day(2023, 11, 14), "Kubernetes 1.27.5."},
	{"v1.27.11+vmware.1-fips.1-vsc0.1.9-23301267", day(2024, 3, 26), "Kubernetes 1.27.11; the version vCenter 8.0.2 enables Supervisors with."},
	{"v1.28.3+vmware.1-fips.1-vsc0.1.9-23367089", day(2024, 4, 16), "Kubernetes 1.28.3; first release of the 1.28 line."},
	{"v1.28.8+vmware.1-fips.1-vsc0.1.10-23901322", day(2024, 6, 25), "Kubernetes 1.28.8; security fixes over 1.28.3."},
	{"v1.29.4+vmware.3-fips.1-vsc0.1.11-24052817", day(2024, 8, 13), "Kubernetes 1.29.4."},
}

// defaultVersion is what new Supervisors run.
var defaultVersion = releases[2].Version

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// kubeVersion extracts minor and patch from "v1.28.8+vmware...".
func kubeVersion(v string) (minor, patch int, ok bool) {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "+")
	parts := strings.Split(core, ".")
	if len(parts) != 3 || parts[0] != "1" {
		return 0, 0, false
	}
	mi, err1 := strconv.Atoi(parts[1])
	pa, err2 := strconv.Atoi(parts[2])
	return mi, pa, err1 == nil && err2 == nil
}

func shortVersion(v string) string {
	core, _, _ := strings.Cut(v, "+")
	return core
}

func newer(a, b string) bool {
	am, ap, _ := kubeVersion(a)
	bm, bp, _ := kubeVersion(b)
	return am > bm || (am == bm && ap > bp)
}

func findRelease(v string) (release, bool) {
	for _, r := range releases {
		if r.Version == v {
			return r, true
		}
	}
	return release{}, false
}

// availableVersions lists the catalogue's releases newer than current.
func availableVersions(current string) []string {
	out := []string{}
	for _, r := range releases {
		if newer(r.Version, current) {
			out = append(out, r.Version)
		}
	}
	return out
}

// AvailableVersionSummary is ClusterAvailableVersions.Summary.
type AvailableVersionSummary struct {
	Version      string        `json:"version"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	ReleaseDate  vapi.DateTime `json:"release_date"`
	ReleaseNotes string        `json:"release_notes"`
}

// availableVersions lists the releases newer than the oldest version a Supervisor runs (newer than
// what new Supervisors get when there is none).
func (f *Family) availableVersions(*vapi.Call) (any, error) {
	oldest := defaultVersion
	for _, s := range f.supervisors.ListShared() {
		if s.Value.Version != "" && newer(oldest, s.Value.Version) {
			oldest = s.Value.Version
		}
	}
	out := []AvailableVersionSummary{}
	for _, v := range availableVersions(oldest) {
		r, _ := findRelease(v)
		mi, pa, _ := kubeVersion(v)
		out = append(out, AvailableVersionSummary{
			Version: v, Name: fmt.Sprintf("Kubernetes 1.%d.%d for vSphere Supervisor", mi, pa),
			Description:  fmt.Sprintf("Supervisor control plane with Kubernetes %s.", shortVersion(v)),
			ReleaseDate:  vapi.NewDateTime(r.Date),
			ReleaseNotes: r.Notes,
		})
	}
	return out, nil
}

// Upgrade states (software.Clusters.State).
const (
	stateUpgradeReady   = "READY"
	stateUpgradePending = "PENDING"
	stateUpgradeError   = "ERROR"
)

// UpgradeSpec is software.Clusters.UpgradeSpec.
type UpgradeSpec struct {
	DesiredVersion         string `json:"desired_version"`
	IgnorePrecheckWarnings *bool  `json:"ignore_precheck_warnings,omitempty"`
}

// UpgradeProgress is software.Clusters.UpgradeProgress.
type UpgradeProgress struct {
	Total     int64        `json:"total"`
	Completed int64        `json:"completed"`
	Message   vapi.Message `json:"message"`
}

// UpgradeStatus is software.Clusters.UpgradeStatus.
type UpgradeStatus struct {
	DesiredVersion *string           `json:"desired_version,omitempty"`
	Messages       []softwareMessage `json:"messages"`
	Progress       *UpgradeProgress  `json:"progress,omitempty"`
}

// SoftwareInfo is software.Clusters.Info.
type SoftwareInfo struct {
	CurrentVersion    string            `json:"current_version"`
	AvailableVersions []string          `json:"available_versions"`
	LastUpgradedDate  *vapi.DateTime    `json:"last_upgraded_date,omitempty"`
	Messages          []softwareMessage `json:"messages"`
	State             string            `json:"state"`
	UpgradeStatus     *UpgradeStatus    `json:"upgrade_status,omitempty"`
}

// SoftwareSummary is software.Clusters.Summary.
type SoftwareSummary struct {
	Cluster           string         `json:"cluster"`
	ClusterName       string         `json:"cluster_name"`
	CurrentVersion    string         `json:"current_version"`
	AvailableVersions []string       `json:"available_versions"`
	LastUpgradedDate  *vapi.DateTime `json:"last_upgraded_date,omitempty"`
	DesiredVersion    *string        `json:"desired_version,omitempty"`
	State             string         `json:"state"`
}

func softwareState(s supervisor) string {
	if s.Upgrade == nil {
		return stateUpgradeReady
	}
	return s.Upgrade.State
}

func lastUpgraded(s supervisor) *vapi.DateTime {
	if s.LastUpgraded == nil {
		return nil
	}
	t := vapi.NewDateTime(*s.LastUpgraded)
	return &t
}

func (f *Family) softwareGet(c *vapi.Call) (any, error) {
	s, err := f.enabledSupervisor(c.Ctx, c.Path("cluster"))
	if err != nil {
		return nil, err
	}
	out := SoftwareInfo{CurrentVersion: s.Version, AvailableVersions: availableVersions(s.Version),
		LastUpgradedDate: lastUpgraded(s), Messages: nonNil(s.SoftwareMessages), State: softwareState(s)}
	if u := s.Upgrade; u != nil {
		desired := u.DesiredVersion
		progress := fmt.Sprintf("%d of %d control plane nodes upgraded to %s.", u.Completed, controlPlaneVMs, shortVersion(desired))
		out.UpgradeStatus = &UpgradeStatus{DesiredVersion: &desired, Messages: nonNil(u.Messages),
			Progress: &UpgradeProgress{Total: controlPlaneVMs, Completed: int64(u.Completed),
				Message: localizable("wcpd.supervisor.upgrade.progress", progress, fmt.Sprint(u.Completed), fmt.Sprint(controlPlaneVMs), desired)}}
	} else if len(s.SoftwareMessages) > 0 && s.LastPrecheckRejected {
		// The last upgrade request stopped at its prechecks: they stay visible here.
		out.UpgradeStatus = &UpgradeStatus{Messages: s.SoftwareMessages}
	}
	return out, nil
}

func nonNil(m []softwareMessage) []softwareMessage {
	if m == nil {
		return []softwareMessage{}
	}
	return m
}

func (f *Family) softwareList(c *vapi.Call) (any, error) {
	names, err := f.clusterNames(c.Ctx)
	if err != nil {
		return nil, err
	}
	out := []SoftwareSummary{}
	for _, r := range f.supervisors.ListShared() {
		s := r.Value
		for _, cl := range s.Clusters {
			sum := SoftwareSummary{Cluster: cl, ClusterName: names[cl], CurrentVersion: s.Version,
				AvailableVersions: availableVersions(s.Version), LastUpgradedDate: lastUpgraded(*s), State: softwareState(*s)}
			if s.Upgrade != nil {
				d := s.Upgrade.DesiredVersion
				sum.DesiredVersion = &d
			}
			out = append(out, sum)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cluster < out[j].Cluster })
	return out, nil
}

func (f *Family) clusterNames(ctx context.Context) (map[string]string, error) {
	clusters, err := f.deps.Inventory.Clusters(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(clusters))
	for _, cl := range clusters {
		out[cl.ID] = cl.Name
	}
	return out, nil
}

// prechecks evaluates an upgrade of s to desired. Every upgrade gets an INFO; skipping a minor
// version or lacking hosts for a rolling upgrade is an ERROR; choosing a patch release that has a
// newer patch in the catalogue is a WARNING.
func (f *Family) prechecks(ctx context.Context, s supervisor, desired string) ([]softwareMessage, error) {
	msg := func(sev, id, text string, args ...string) softwareMessage {
		return softwareMessage{Severity: sev, Details: localizable("wcpd.supervisor.precheck."+id, text, args...)}
	}
	cur, des := shortVersion(s.Version), shortVersion(desired)
	out := []softwareMessage{msg("INFO", "rolling", fmt.Sprintf(
		"Upgrading from %s to %s replaces the %d control plane nodes one at a time; the Kubernetes API server stays available.", cur, des, controlPlaneVMs), cur, des)}
	curMinor, _, _ := kubeVersion(s.Version)
	desMinor, desPatch, _ := kubeVersion(desired)
	if desMinor > curMinor+1 {
		next := ""
		for _, r := range releases {
			if m, _, _ := kubeVersion(r.Version); m == curMinor+1 {
				next = r.Version
			}
		}
		out = append(out, msg("ERROR", "skips_minor", fmt.Sprintf(
			"%s cannot be reached from %s in one upgrade: Supervisors upgrade one Kubernetes minor version at a time; upgrade to %s first.",
			des, cur, shortVersion(next)), des, cur, next))
	}
	for _, id := range s.Clusters {
		cl, err := f.deps.Inventory.Cluster(ctx, id)
		if err != nil {
			return nil, err
		}
		if n := usableHosts(cl); n < minHosts {
			out = append(out, msg("ERROR", "hosts", fmt.Sprintf(
				"Only %d ESXi host(s) of cluster %s are usable (connected and not in maintenance mode); a rolling upgrade needs at least %d.",
				n, cl.Name, minHosts), fmt.Sprint(n), cl.Name))
		}
	}
	for _, r := range releases {
		if m, p, _ := kubeVersion(r.Version); m == desMinor && p > desPatch {
			out = append(out, msg("WARNING", "newer_patch", fmt.Sprintf(
				"%s has a newer patch release, %s, with fixes %s lacks; upgrading to it instead is recommended.",
				des, shortVersion(r.Version), des), des, r.Version))
			break
		}
	}
	return out, nil
}

// startUpgrade validates and prechecks an upgrade of the Supervisor on cluster and starts it.
func (f *Family) startUpgrade(ctx context.Context, cluster string, spec UpgradeSpec, field string) error {
	rec, ok := f.lookupRecord(cluster)
	if !ok || !rec.Value.spans(cluster) {
		_, err := f.enabledSupervisor(ctx, cluster)
		return err
	}
	s := rec.Value
	if s.Phase != phaseRunning {
		return vapi.Errorf(vapi.ErrorUnsupported, "wcpd.supervisor.upgrade.not_running",
			"The Supervisor on cluster %s is %s; only a RUNNING Supervisor can be upgraded.", cluster, s.ConfigStatus)
	}
	if s.Upgrade != nil && s.Upgrade.State == stateUpgradePending {
		return vapi.Errorf(vapi.ErrorUnsupported, "wcpd.supervisor.upgrade.in_progress",
			"The Supervisor on cluster %s is already being upgraded to %s.", cluster, s.Upgrade.DesiredVersion)
	}
	if _, ok := findRelease(spec.DesiredVersion); !ok {
		return vapi.InvalidArgument(field+".desired_version", spec.DesiredVersion,
			"is not a Supervisor version wcpd offers; see cluster_available_versions")
	}
	if !newer(spec.DesiredVersion, s.Version) {
		return vapi.InvalidArgument(field+".desired_version", spec.DesiredVersion,
			"is not newer than the version the Supervisor runs, "+s.Version)
	}
	checks, err := f.prechecks(ctx, s, spec.DesiredVersion)
	if err != nil {
		return err
	}
	var blocking []string
	ignore := spec.IgnorePrecheckWarnings != nil && *spec.IgnorePrecheckWarnings
	for _, m := range checks {
		if m.Severity == "ERROR" || (m.Severity == "WARNING" && !ignore) {
			blocking = append(blocking, m.Severity+": "+m.Details.DefaultMessage)
		}
	}
	now := f.now()
	if len(blocking) > 0 {
		// The prechecks' verdict is recorded (software.clusters.get shows it) even though the
		// upgrade does not start; nothing else changes.
		_, err := f.supervisors.Mutate(ctx, s.Cluster, func(v *supervisor) error {
			v.SoftwareMessages, v.LastPrecheckRejected = checks, true
			v.logEvent(now, "warn", "upgrade to "+spec.DesiredVersion+" rejected by prechecks")
			return nil
		})
		if err != nil {
			return err
		}
		hint := ""
		if !ignore && !containsSeverity(checks, "ERROR") {
			hint = " Set ignore_precheck_warnings to proceed despite the warnings."
		}
		e := vapi.NewError(vapi.ErrorUnsupported, "wcpd.supervisor.upgrade.precheck_failed",
			fmt.Sprintf("The upgrade of the Supervisor on cluster %s to %s failed its prechecks: %s.%s",
				cluster, spec.DesiredVersion, strings.TrimSuffix(strings.Join(blocking, " "), "."), hint), cluster, spec.DesiredVersion)
		for _, m := range checks {
			if m.Severity != "INFO" {
				e.Messages = append(e.Messages, m.Details)
			}
		}
		return e
	}
	fault, armed := f.faults.Take("upgrade", s.Cluster)
	_, err = f.supervisors.Update(ctx, rec.Key, rec.Revision, func() supervisor {
		v := s
		u := &upgrade{DesiredVersion: spec.DesiredVersion, State: stateUpgradePending, Messages: checks, Started: now, PhaseStarted: now}
		if armed {
			u.Fault = &fault
		}
		v.Upgrade, v.SoftwareMessages, v.LastPrecheckRejected = u, checks, false
		v.logEvent(now, "info", fmt.Sprintf("upgrade from %s to %s started", v.Version, spec.DesiredVersion))
		return v
	}())
	if err != nil {
		if armed {
			f.rearm("upgrade", s.Cluster, fault)
		}
		if errors.Is(err, store.ErrConflict) {
			return concurrentChange(cluster)
		}
		return err
	}
	f.ctl.Enqueue(s.Cluster)
	return nil
}

func containsSeverity(m []softwareMessage, sev string) bool {
	for _, x := range m {
		if x.Severity == sev {
			return true
		}
	}
	return false
}

func concurrentChange(cluster string) error {
	return vapi.Errorf(vapi.ErrorConcurrentChange, "wcpd.concurrent_change",
		"The Supervisor on cluster %s changed while the request was being served; read it again and retry.", cluster)
}

// settleAttempts bounds how often an admin's change is tried again after losing a race.
const settleAttempts = 8

// untilSettled runs op, which reads the Supervisor's record, checks the request against it and
// writes it back with a revision check, again from its first read while the write loses the race
// (CONCURRENT_CHANGE). The Supervisor's controllers write the same record (status, conditions,
// events) on their own schedule, and an admin's request carries no version of its own, so a race
// with them is no reason to refuse it. Each attempt runs every check on the newer record, so a
// change made meanwhile is neither overwritten nor lost; only a record that keeps changing is
// answered with CONCURRENT_CHANGE.
func untilSettled(op func() error) error {
	var err error
	for range settleAttempts {
		var ve *vapi.Error
		if err = op(); !errors.As(err, &ve) || ve.Type != vapi.ErrorConcurrentChange {
			return err
		}
	}
	return err
}

// retried is untilSettled for an operation's handler.
func retried(h vapi.HandlerFunc) vapi.HandlerFunc {
	return func(c *vapi.Call) (any, error) {
		var out any
		err := untilSettled(func() (err error) {
			out, err = h(c)
			return err
		})
		return out, err
	}
}

func (f *Family) upgrade(c *vapi.Call) (any, error) {
	var spec UpgradeSpec
	if err := c.Bind("spec", &spec); err != nil {
		return nil, err
	}
	return nil, f.startUpgrade(c.Ctx, c.Path("cluster"), spec, "spec")
}

// UpgradeResult is software.Clusters.Result.
type UpgradeResult struct {
	Res       string      `json:"res"`
	Exception *vapi.Error `json:"exception,omitempty"`
}

func (f *Family) upgradeMultiple(c *vapi.Call) (any, error) {
	var specs map[string]UpgradeSpec
	if err := c.Bind("specs", &specs); err != nil {
		return nil, err
	}
	out := map[string]UpgradeResult{}
	for _, cluster := range sortedKeys(specs) {
		err := untilSettled(func() error {
			return f.startUpgrade(c.Ctx, cluster, specs[cluster], fmt.Sprintf("specs[%q]", cluster))
		})
		if err == nil {
			out[cluster] = UpgradeResult{Res: "STARTED"}
			continue
		}
		var ve *vapi.Error
		if !errors.As(err, &ve) {
			return nil, err
		}
		out[cluster] = UpgradeResult{Res: "REJECTED", Exception: ve}
	}
	return out, nil
}
