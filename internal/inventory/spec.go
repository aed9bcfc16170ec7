package inventory

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"sigs.k8s.io/yaml"
)

// defaultSpecYAML is the inventory wcpd starts with when no file is given.
// docs/inventory-example.yaml carries the same text (a test keeps them equal).
//
//go:embed default-inventory.yaml
var defaultSpecYAML []byte

// Spec describes an inventory: the YAML accepted by --inventory.
type Spec struct {
	// Datacenter is the name of the single datacenter.
	Datacenter string `json:"datacenter"`
	// HostDefaults is the hardware of hosts that do not say otherwise.
	HostDefaults HostSpec `json:"host_defaults,omitempty"`
	// HypervisorOverheadPercent is the share of each host's CPU and memory
	// kept by ESXi itself; what is left counts as the cluster's effective
	// capacity. Nil means DefaultHypervisorOverheadPercent.
	HypervisorOverheadPercent *int                 `json:"hypervisor_overhead_percent,omitempty"`
	Clusters                  []ClusterSpec        `json:"clusters"`
	Datastores                []DatastoreSpec      `json:"datastores,omitempty"`
	Switches                  []SwitchSpec         `json:"switches,omitempty"`
	StoragePolicies           []StoragePolicySpec  `json:"storage_policies,omitempty"`
	ContentLibraries          []ContentLibrarySpec `json:"content_libraries,omitempty"`
}

// ClusterSpec is one cluster of hosts.
type ClusterSpec struct {
	Name  string    `json:"name"`
	DRS   bool      `json:"drs"`
	HA    bool      `json:"ha"`
	Hosts HostsSpec `json:"hosts"`
}

// HostsSpec is either a count ("hosts: 3", hosts built from host_defaults
// and named esx-NN.wcpd.local) or an explicit list of hosts.
type HostsSpec struct {
	Count int
	List  []HostSpec
}

// HostSpec is the hardware of one host. Zero fields of a listed host take
// host_defaults, and zero fields of host_defaults take builtinHost.
type HostSpec struct {
	Name           string `json:"name,omitempty"`
	Sockets        int    `json:"sockets,omitempty"`
	CoresPerSocket int    `json:"cores_per_socket,omitempty"`
	MHz            int    `json:"mhz,omitempty"`
	MemoryGiB      int64  `json:"memory_gib,omitempty"`
	CPUModel       string `json:"cpu_model,omitempty"`
	Vendor         string `json:"vendor,omitempty"`
	Model          string `json:"model,omitempty"`
}

// DatastoreSpec is a datastore shared by the hosts of the listed clusters.
type DatastoreSpec struct {
	Name string `json:"name"`
	// Type is the file system type shown to clients: VMFS (default) or NFS.
	Type        string `json:"type,omitempty"`
	CapacityGiB int64  `json:"capacity_gib"`
	// FreeGiB defaults to CapacityGiB.
	FreeGiB *int64 `json:"free_gib,omitempty"`
	// Clusters whose hosts mount the datastore; empty means every cluster.
	Clusters []string `json:"clusters,omitempty"`
}

// SwitchSpec is a distributed switch joined by the hosts of the listed clusters.
type SwitchSpec struct {
	Name       string          `json:"name"`
	Clusters   []string        `json:"clusters,omitempty"`
	PortGroups []PortGroupSpec `json:"port_groups,omitempty"`
}

// PortGroupSpec is a distributed port group.
type PortGroupSpec struct {
	Name string `json:"name"`
	VLAN int    `json:"vlan,omitempty"`
}

// StoragePolicySpec is a PBM storage policy with a fixed id.
type StoragePolicySpec struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// ContentLibrarySpec is a local content library with a fixed id.
type ContentLibrarySpec struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Type is LOCAL, the only kind the embedded inventory can hold.
	Type string `json:"type,omitempty"`
	// Datastore backing the library; defaults to the first datastore.
	Datastore string            `json:"datastore,omitempty"`
	Items     []LibraryItemSpec `json:"items,omitempty"`
}

// guestOSPattern is the form of vSphere's guest OS identifiers (VirtualMachineGuestOsIdentifier).
var guestOSPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*Guest$`)

// LibraryItemSpec is an OVF template in a content library. Items carry a
// small generated OVF descriptor and no disk files.
type LibraryItemSpec struct {
	// ID defaults to a UUID derived from the library id and the item name,
	// so it is the same on every start.
	ID          string `json:"id,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// CPUs and MemoryMiB size the VM the descriptor describes (default 2 / 4096).
	CPUs      int `json:"cpus,omitempty"`
	MemoryMiB int `json:"memory_mib,omitempty"`
	// GuestOS is the guest OS identifier the descriptor names (vmw:osType, default
	// otherLinux64Guest); OSVersion its version, if any.
	GuestOS   string `json:"guest_os,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
}

// DefaultHypervisorOverheadPercent is used when the spec does not set
// hypervisor_overhead_percent.
const DefaultHypervisorOverheadPercent = 5

// UnmarshalJSON accepts a host count or a list of hosts.
func (h *HostsSpec) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var list []HostSpec
		if err := dec.Decode(&list); err != nil {
			return fmt.Errorf("hosts: %w", err)
		}
		*h = HostsSpec{List: list}
		return nil
	}
	var n int
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("hosts: want a host count or a list of hosts, got %s", data)
	}
	*h = HostsSpec{Count: n}
	return nil
}

// MarshalJSON writes the count when there is no list.
func (h HostsSpec) MarshalJSON() ([]byte, error) {
	if h.List != nil {
		return json.Marshal(h.List)
	}
	return json.Marshal(h.Count)
}

// DefaultSpec returns the built-in inventory (see docs/inventory.md).
func DefaultSpec() *Spec {
	spec, err := ParseSpec(defaultSpecYAML)
	if err != nil {
		panic("inventory: built-in inventory is invalid: " + err.Error())
	}
	return spec
}

// LoadSpec reads and validates an inventory file.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	spec, err := ParseSpec(data)
	if err != nil {
		return nil, fmt.Errorf("inventory file %s: %w", path, err)
	}
	return spec, nil
}

// ParseSpec decodes YAML, rejecting unknown fields, and validates the result.
func ParseSpec(data []byte) (*Spec, error) {
	var spec Spec
	if err := yaml.UnmarshalStrict(data, &spec); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	return &spec, nil
}

// Limits keep the simulated hardware inside what vSphere's own types can hold.
const (
	maxHostsPerCluster = 64
	maxSockets         = 8
	maxCoresPerSocket  = 128
	minMHz, maxMHz     = 500, 6000
	maxMemoryGiB       = 24 << 10
)

// Validate checks the spec and returns every problem found, each naming the
// field (e.g. clusters[1].hosts[0].mhz) and the offending value.
func (s *Spec) Validate() error {
	var v validator
	v.name("datacenter", s.Datacenter)

	v.host("host_defaults", s.HostDefaults)
	if p := s.HypervisorOverheadPercent; p != nil && (*p < 0 || *p > 50) {
		v.add("hypervisor_overhead_percent", "must be between 0 and 50, got %d", *p)
	}

	if len(s.Clusters) == 0 {
		v.add("clusters", "at least one cluster is required")
	}
	clusters := map[string]bool{}
	hostNames := map[string]string{}
	for i, c := range s.Clusters {
		field := fmt.Sprintf("clusters[%d]", i)
		v.name(field+".name", c.Name)
		if clusters[c.Name] {
			v.add(field+".name", "duplicate cluster name %q", c.Name)
		}
		clusters[c.Name] = true
		switch {
		case c.Hosts.List == nil && (c.Hosts.Count < 1 || c.Hosts.Count > maxHostsPerCluster):
			v.add(field+".hosts", "host count must be between 1 and %d, got %d", maxHostsPerCluster, c.Hosts.Count)
		case c.Hosts.List != nil && (len(c.Hosts.List) < 1 || len(c.Hosts.List) > maxHostsPerCluster):
			v.add(field+".hosts", "host list must have between 1 and %d entries, got %d", maxHostsPerCluster, len(c.Hosts.List))
		}
		for j, h := range c.Hosts.List {
			hf := fmt.Sprintf("%s.hosts[%d]", field, j)
			v.host(hf, h)
			if h.Name != "" {
				v.name(hf+".name", h.Name)
			}
		}
	}
	// Generated names (esx-NN.wcpd.local) can collide with listed ones, and
	// vSphere counts a cluster's hardware threads in an int16.
	next := 0
	for i, c := range s.Clusters {
		threads := 0
		for j, h := range s.hostsOf(c, &next) {
			field := fmt.Sprintf("clusters[%d].hosts[%d].name", i, j)
			if prev, ok := hostNames[h.Name]; ok {
				v.add(field, "duplicate host name %q (also %s)", h.Name, prev)
			}
			hostNames[h.Name] = field
			threads += 2 * h.Sockets * h.CoresPerSocket
		}
		if threads > math.MaxInt16 {
			v.add(fmt.Sprintf("clusters[%d].hosts", i), "%d hardware threads in total; vSphere counts at most %d per cluster", threads, math.MaxInt16)
		}
	}

	knownClusters := func(field string, names []string) {
		for k, n := range names {
			if !clusters[n] {
				v.add(fmt.Sprintf("%s[%d]", field, k), "no cluster named %q", n)
			}
		}
	}

	datastores := map[string]bool{}
	for i, d := range s.Datastores {
		field := fmt.Sprintf("datastores[%d]", i)
		v.name(field+".name", d.Name)
		if datastores[d.Name] {
			v.add(field+".name", "duplicate datastore name %q", d.Name)
		}
		datastores[d.Name] = true
		switch d.Type {
		case "", "VMFS", "NFS":
		default:
			v.add(field+".type", "must be VMFS or NFS, got %q", d.Type)
		}
		if d.CapacityGiB <= 0 {
			v.add(field+".capacity_gib", "must be positive, got %d", d.CapacityGiB)
		}
		if d.FreeGiB != nil && (*d.FreeGiB < 0 || *d.FreeGiB > d.CapacityGiB) {
			v.add(field+".free_gib", "must be between 0 and capacity_gib (%d), got %d", d.CapacityGiB, *d.FreeGiB)
		}
		knownClusters(field+".clusters", d.Clusters)
	}

	networks := map[string]string{}
	for i, sw := range s.Switches {
		field := fmt.Sprintf("switches[%d]", i)
		v.name(field+".name", sw.Name)
		if prev, ok := networks[sw.Name]; ok {
			v.add(field+".name", "duplicate network name %q (also %s)", sw.Name, prev)
		}
		networks[sw.Name] = field + ".name"
		if len(sw.Clusters) == 0 {
			v.add(field+".clusters", "list the clusters whose hosts join the switch")
		}
		knownClusters(field+".clusters", sw.Clusters)
		for j, pg := range sw.PortGroups {
			pf := fmt.Sprintf("%s.port_groups[%d]", field, j)
			v.name(pf+".name", pg.Name)
			if prev, ok := networks[pg.Name]; ok {
				v.add(pf+".name", "duplicate network name %q (also %s)", pg.Name, prev)
			}
			networks[pg.Name] = pf + ".name"
			if pg.VLAN < 0 || pg.VLAN > 4094 {
				v.add(pf+".vlan", "must be between 0 and 4094, got %d", pg.VLAN)
			}
		}
	}

	ids := map[string]string{}
	uniqueID := func(field, id string) {
		if id == "" {
			v.add(field, "is required")
			return
		}
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			v.add(field, "must be a UUID like 8f0b64d2-3c1e-4d5a-9b7e-2a1c5e6f7a01, got %q", id)
			return
		}
		key := strings.ToLower(id)
		if prev, ok := ids[key]; ok {
			v.add(field, "duplicate id %s (also %s)", id, prev)
		}
		ids[key] = field
	}

	policyNames := map[string]bool{}
	for i, p := range s.StoragePolicies {
		field := fmt.Sprintf("storage_policies[%d]", i)
		uniqueID(field+".id", p.ID)
		v.name(field+".name", p.Name)
		if policyNames[p.Name] {
			v.add(field+".name", "duplicate storage policy name %q", p.Name)
		}
		policyNames[p.Name] = true
	}

	libraryNames := map[string]bool{}
	for i, l := range s.ContentLibraries {
		field := fmt.Sprintf("content_libraries[%d]", i)
		uniqueID(field+".id", l.ID)
		v.name(field+".name", l.Name)
		if libraryNames[l.Name] {
			v.add(field+".name", "duplicate content library name %q", l.Name)
		}
		libraryNames[l.Name] = true
		if l.Type != "" && l.Type != "LOCAL" {
			v.add(field+".type", "only LOCAL libraries can be embedded, got %q", l.Type)
		}
		switch {
		case l.Datastore != "" && !datastores[l.Datastore]:
			v.add(field+".datastore", "no datastore named %q", l.Datastore)
		case len(s.Datastores) == 0:
			v.add(field+".datastore", "a content library needs a datastore; add one under datastores")
		}
		itemNames := map[string]bool{}
		for j, it := range l.Items {
			itf := fmt.Sprintf("%s.items[%d]", field, j)
			v.name(itf+".name", it.Name)
			if itemNames[it.Name] {
				v.add(itf+".name", "duplicate item name %q", it.Name)
			}
			itemNames[it.Name] = true
			if it.ID != "" {
				uniqueID(itf+".id", it.ID)
			}
			if it.CPUs < 0 || it.CPUs > 128 {
				v.add(itf+".cpus", "must be between 1 and 128, got %d", it.CPUs)
			}
			if it.GuestOS != "" && !guestOSPattern.MatchString(it.GuestOS) {
				v.add(itf+".guest_os", "%q is not a guest OS identifier (letters and digits ending in Guest, such as ubuntu64Guest)", it.GuestOS)
			}
			if it.MemoryMiB < 0 || it.MemoryMiB > 4<<20 {
				v.add(itf+".memory_mib", "must be between 1 and %d, got %d", 4<<20, it.MemoryMiB)
			}
		}
	}
	return v.err()
}

// validator collects field errors so one run reports them all.
type validator struct{ problems []string }

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, field+": "+fmt.Sprintf(format, args...))
}

// name checks an inventory name: vSphere paths use '/' as separator, so a
// name containing it could not be found again by path.
func (v *validator) name(field, name string) {
	switch {
	case strings.TrimSpace(name) == "":
		v.add(field, "is required")
	case strings.Contains(name, "/"):
		v.add(field, "must not contain '/', got %q", name)
	case len(name) > 80:
		v.add(field, "must be at most 80 characters, got %d", len(name))
	}
}

// host checks the hardware fields that are set; zero means "inherit".
func (v *validator) host(field string, h HostSpec) {
	check := func(name string, value, lo, hi int64) {
		if value == 0 {
			return
		}
		if value < lo || value > hi {
			v.add(field+"."+name, "must be between %d and %d, got %d", lo, hi, value)
		}
	}
	check("sockets", int64(h.Sockets), 1, maxSockets)
	check("cores_per_socket", int64(h.CoresPerSocket), 1, maxCoresPerSocket)
	check("mhz", int64(h.MHz), minMHz, maxMHz)
	check("memory_gib", h.MemoryGiB, 1, maxMemoryGiB)
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(v.problems, "; "))
}

// overheadPercent returns the effective hypervisor overhead.
func (s *Spec) overheadPercent() int {
	if s.HypervisorOverheadPercent == nil {
		return DefaultHypervisorOverheadPercent
	}
	return *s.HypervisorOverheadPercent
}

// hostsOf expands a cluster's hosts: names are generated for a count,
// and zero fields take the spec's host defaults. next numbers generated names
// across the datacenter so they stay unique.
func (s *Spec) hostsOf(c ClusterSpec, next *int) []HostSpec {
	var hosts []HostSpec
	if c.Hosts.List == nil {
		for range c.Hosts.Count {
			hosts = append(hosts, HostSpec{})
		}
	} else {
		hosts = append(hosts, c.Hosts.List...)
	}
	d := s.HostDefaults
	inherit(&d, builtinHost)
	for i := range hosts {
		h := &hosts[i]
		*next++
		if h.Name == "" {
			h.Name = fmt.Sprintf("esx-%02d.wcpd.local", *next)
		}
		inherit(h, d)
		if h.CPUModel == "" {
			h.CPUModel = fmt.Sprintf("Intel(R) Xeon(R) CPU %d-core @ %.2fGHz", h.CoresPerSocket, float64(h.MHz)/1000)
		}
	}
	return hosts
}

// builtinHost is the hardware used when neither a host nor host_defaults
// says otherwise: a common two-socket virtualisation server.
var builtinHost = HostSpec{
	Sockets:        2,
	CoresPerSocket: 16,
	MHz:            2600,
	MemoryGiB:      512,
	Vendor:         "Dell Inc.",
	Model:          "PowerEdge R650",
}

// inherit fills h's zero hardware fields from d.
func inherit(h *HostSpec, d HostSpec) {
	if h.Sockets == 0 {
		h.Sockets = d.Sockets
	}
	if h.CoresPerSocket == 0 {
		h.CoresPerSocket = d.CoresPerSocket
	}
	if h.MHz == 0 {
		h.MHz = d.MHz
	}
	if h.MemoryGiB == 0 {
		h.MemoryGiB = d.MemoryGiB
	}
	if h.CPUModel == "" {
		h.CPUModel = d.CPUModel
	}
	if h.Vendor == "" {
		h.Vendor = d.Vendor
	}
	if h.Model == "" {
		h.Model = d.Model
	}
}
