package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vapi/namespace"
	"github.com/vmware/govmomi/vapi/rest"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/servertest"
)

const vmClassesPath = "/api/vcenter/namespace-management/virtual-machine-classes"

// The VirtualMachineConfigSpec examples of seed 004, verbatim, kept beside the vmclasses package's
// own tests.
var (
	seed004ExtraConfig         = readSeed004("seed004-extraconfig.json")
	seed004VGPU                = readSeed004("seed004-vgpu.json")
	seed004DynamicDirectPathIO = readSeed004("seed004-dynamic-directpath-io.json")
)

func readSeed004(name string) string {
	b, err := os.ReadFile(filepath.Join("..", "internal", "vmclasses", "testdata", name))
	if err != nil {
		panic(err)
	}
	return string(b)
}

// vmClassInfo is VirtualMachineClasses.Info as a client reads it.
type vmClassInfo struct {
	ID                string            `json:"id"`
	CPUCount          int64             `json:"cpu_count"`
	CPUReservation    *int64            `json:"cpu_reservation"`
	MemoryMB          int64             `json:"memory_MB"`
	MemoryReservation *int64            `json:"memory_reservation"`
	Description       string            `json:"description"`
	Namespaces        []string          `json:"namespaces"`
	VMs               []string          `json:"vms"`
	ConfigStatus      string            `json:"config_status"`
	Messages          []json.RawMessage `json:"messages"`
	Devices           *struct {
		VGPUDevices []struct {
			ProfileName string `json:"profile_name"`
		} `json:"vgpu_devices"`
		DynamicDirectPathIODevices []struct {
			VendorID int64 `json:"vendor_id"`
			DeviceID int64 `json:"device_id"`
		} `json:"dynamic_direct_path_IO_devices"`
	} `json:"devices"`
	InstanceStorage *struct {
		Policy  string `json:"policy"`
		Volumes []struct {
			Size int64 `json:"size"`
		} `json:"volumes"`
	} `json:"instance_storage"`
	ConfigSpec json.RawMessage `json:"config_spec"`
}

func getVMClass(t *testing.T, env *servertest.Env, token, id string) (vmClassInfo, servertest.Response) {
	t.Helper()
	r := env.Do("GET", vmClassesPath+"/"+id, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET VM class %s: %d %s", id, r.Status, r.Body)
	}
	var info vmClassInfo
	r.JSON(t, &info)
	return info, r
}

func createVMClass(t *testing.T, env *servertest.Env, token string, body any) {
	t.Helper()
	if r := env.Do("POST", vmClassesPath, token, body); r.Status != http.StatusNoContent {
		t.Fatalf("create VM class %v: %d %s", body, r.Status, r.Body)
	}
}

// sameJSON reports whether two JSON texts mean the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// vapiMessages decodes the messages of a vAPI error.
func vapiMessages(t *testing.T, r servertest.Response) []struct {
	ID             string   `json:"id"`
	DefaultMessage string   `json:"default_message"`
	Args           []string `json:"args"`
} {
	t.Helper()
	var e struct {
		Messages []struct {
			ID             string   `json:"id"`
			DefaultMessage string   `json:"default_message"`
			Args           []string `json:"args"`
		} `json:"messages"`
	}
	r.JSON(t, &e)
	return e.Messages
}

// expectInvalid checks that r is a 400 INVALID_ARGUMENT naming field (and value, when not "") in
// one of its messages, and whose text says what holds (when not "").
func expectInvalid(t *testing.T, r servertest.Response, field, value, says string) {
	t.Helper()
	if r.Status != http.StatusBadRequest || r.ErrorType() != "INVALID_ARGUMENT" {
		t.Fatalf("want 400 INVALID_ARGUMENT about %s, got %d %s", field, r.Status, r.Body)
	}
	for _, m := range vapiMessages(t, r) {
		if len(m.Args) == 0 || m.Args[0] != field {
			continue
		}
		if value != "" && (len(m.Args) < 2 || m.Args[1] != value) {
			continue
		}
		if says != "" && !strings.Contains(m.DefaultMessage, says) {
			t.Fatalf("the message about %s does not say %q: %s", field, says, m.DefaultMessage)
		}
		return
	}
	t.Fatalf("no message names %s with value %q: %s", field, value, r.Body)
}

func TestVMClasses(t *testing.T) {
	t.Parallel()
	shared := servertest.New(t)
	token := shared.AdminToken()
	ctx := context.Background()

	t.Run("DefaultClassesExistFromTheStart", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		sizes := map[string][2]int64{"xsmall": {2, 2}, "small": {2, 4}, "medium": {2, 8}, "large": {4, 16},
			"xlarge": {4, 32}, "2xlarge": {8, 64}, "4xlarge": {16, 128}, "8xlarge": {32, 128}}
		r := env.Do("GET", vmClassesPath, token, nil)
		var list []vmClassInfo
		r.JSON(t, &list)
		byID := map[string]vmClassInfo{}
		for _, c := range list {
			byID[c.ID] = c
		}
		for size, s := range sizes {
			be, g := byID["best-effort-"+size], byID["guaranteed-"+size]
			if be.CPUCount != s[0] || be.MemoryMB != s[1]*1024 || be.CPUReservation != nil || be.MemoryReservation != nil || be.ConfigStatus != "READY" {
				t.Errorf("best-effort-%s: %+v", size, be)
			}
			if g.CPUCount != s[0] || g.MemoryMB != s[1]*1024 || g.CPUReservation == nil || *g.CPUReservation != 100 ||
				g.MemoryReservation == nil || *g.MemoryReservation != 100 {
				t.Errorf("guaranteed-%s: %+v", size, g)
			}
		}
		// Info answers with the reference's names, required fields always present.
		_, raw := getVMClass(t, env, token, "guaranteed-small")
		for _, want := range []string{`"memory_MB":4096`, `"namespaces":[]`, `"vms":[]`, `"messages":[]`, `"description":""`, `"cpu_reservation":100`} {
			if !strings.Contains(string(raw.Body), want) {
				t.Errorf("GET guaranteed-small lacks %s: %s", want, raw.Body)
			}
		}
		out := env.AdminGovc("namespace.vmclass.ls")
		for size := range sizes {
			for _, id := range []string{"best-effort-" + size, "guaranteed-" + size} {
				if !slices.Contains(strings.Fields(out), id) {
					t.Errorf("govc namespace.vmclass.ls does not list %s:\n%s", id, out)
				}
			}
		}
		if r := env.Do("GET", vmClassesPath+"/no-such-class", token, nil); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
			t.Errorf("GET of an unknown class: %d %s", r.Status, r.Body)
		}
	})

	t.Run("Seed000CustomClassOverHTTP", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		body := `{
"cpu_count": 2,
"cpu_reservation": 0,
"description": "my vm class",
"id": "custom-class",
"memory_MB": 1024,
"memory_reservation": 0
}`
		createVMClass(t, env, token, body)
		info, raw := getVMClass(t, env, token, "custom-class")
		if info.CPUCount != 2 || info.MemoryMB != 1024 || info.Description != "my vm class" || info.ConfigStatus != "READY" ||
			info.CPUReservation == nil || *info.CPUReservation != 0 || info.MemoryReservation == nil || *info.MemoryReservation != 0 {
			t.Fatalf("custom-class: %s", raw.Body)
		}
		// The id is unique: a second create is refused and changes nothing.
		again := strings.Replace(body, `"my vm class"`, `"another"`, 1)
		if r := env.Do("POST", vmClassesPath, token, again); r.Status != 400 || r.ErrorType() != "ALREADY_EXISTS" {
			t.Fatalf("second create of custom-class: %d %s", r.Status, r.Body)
		}
		if _, after := getVMClass(t, env, token, "custom-class"); string(after.Body) != string(raw.Body) {
			t.Fatalf("a refused create changed the class:\n%s\n%s", raw.Body, after.Body)
		}
	})

	t.Run("GovmomiClient", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		nm := namespace.NewManager(env.REST(ctx, servertest.Admin, servertest.AdminPassword))
		spec := namespace.VirtualMachineClassCreateSpec{Id: "govmomi-class", CpuCount: 4, MemoryMb: 8192,
			CpuReservation: 50, MemoryReservation: 100,
			Devices: namespace.VirtualDevices{VgpuDevices: []namespace.VgpuDevice{{ProfileName: "grid_t4-4q"}}}}
		if err := nm.CreateVmClass(ctx, spec); err != nil {
			t.Fatal(err)
		}
		got, err := nm.GetVmClass(ctx, "govmomi-class")
		if err != nil {
			t.Fatal(err)
		}
		if got.CpuCount != 4 || got.MemoryMb != 8192 || got.CpuReservation != 50 || got.MemoryReservation != 100 ||
			got.ConfigStatus != "READY" || len(got.Devices.VgpuDevices) != 1 || got.Devices.VgpuDevices[0].ProfileName != "grid_t4-4q" ||
			got.Namespaces == nil || got.Vms == nil || got.Messages == nil {
			t.Fatalf("GetVmClass: %+v", got)
		}
		list, err := nm.ListVmClasses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, c := range list {
			ids[c.Id] = true
		}
		if !ids["govmomi-class"] || !ids["best-effort-xsmall"] || !ids["guaranteed-8xlarge"] {
			t.Fatalf("ListVmClasses: %v", ids)
		}
		// govmomi sends every field of its UpdateSpec: the zero memory and the empty devices must
		// not reset anything (vcsim resets them).
		if err := nm.UpdateVmClass(ctx, "govmomi-class", namespace.VirtualMachineClassUpdateSpec{Id: "govmomi-class", CpuCount: 8}); err != nil {
			t.Fatal(err)
		}
		got, _ = nm.GetVmClass(ctx, "govmomi-class")
		if got.CpuCount != 8 || got.MemoryMb != 8192 || got.CpuReservation != 50 || got.MemoryReservation != 100 ||
			len(got.Devices.VgpuDevices) != 1 {
			t.Fatalf("after UpdateVmClass of cpu_count only: %+v", got)
		}
		// govmomi's spelling of the dynamic DirectPath I/O list is accepted; the answer uses vCenter's.
		upd := namespace.VirtualMachineClassUpdateSpec{Id: "govmomi-class",
			Devices: namespace.VirtualDevices{DirectPathIoDevices: []namespace.DirectPathIoDevice{{VendorId: 0x10de, DeviceId: 0x1db4, CustomLabel: "gpu"}}}}
		if err := nm.UpdateVmClass(ctx, "govmomi-class", upd); err != nil {
			t.Fatal(err)
		}
		info, raw := getVMClass(t, env, token, "govmomi-class")
		if info.Devices == nil || len(info.Devices.DynamicDirectPathIODevices) != 1 || info.Devices.DynamicDirectPathIODevices[0].VendorID != 0x10de ||
			len(info.Devices.VGPUDevices) != 1 || info.CPUCount != 8 {
			t.Fatalf("after adding a DirectPath I/O device: %s", raw.Body)
		}
		// govmomi reports a 400 with the vAPI error's body.
		err = nm.UpdateVmClass(ctx, "govmomi-class", namespace.VirtualMachineClassUpdateSpec{Id: "govmomi-class", CpuCount: -2})
		if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), `"error_type":"INVALID_ARGUMENT"`) ||
			!strings.Contains(err.Error(), "spec.cpu_count") {
			t.Fatalf("update with cpu_count -2: %v", err)
		}
		if err := nm.DeleteVmClass(ctx, "govmomi-class"); err != nil {
			t.Fatal(err)
		}
		if _, err := nm.GetVmClass(ctx, "govmomi-class"); !rest.IsStatusError(err, http.StatusNotFound) {
			t.Fatalf("GetVmClass after delete: %v", err)
		}
		if err := nm.DeleteVmClass(ctx, "govmomi-class"); !rest.IsStatusError(err, http.StatusNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})

	t.Run("GovcWithSeed004ConfigSpecs", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		env.AdminGovc("namespace.vmclass.create", "-spec", seed004ExtraConfig, "seed-extraconfig")
		env.AdminGovc("namespace.vmclass.create", "-cpus", "2", "-memory", "4096", "-spec", seed004VGPU, "seed-vgpu")
		env.AdminGovc("namespace.vmclass.create", "-cpus", "4", "-memory", "8192", "-spec", seed004DynamicDirectPathIO, "seed-ddpio")
		for id, seed := range map[string]string{"seed-extraconfig": seed004ExtraConfig, "seed-vgpu": seed004VGPU, "seed-ddpio": seed004DynamicDirectPathIO} {
			info, raw := getVMClass(t, env, token, id)
			if !sameJSON(t, info.ConfigSpec, []byte(seed)) {
				t.Errorf("%s: config_spec does not round-trip:\n%s", id, raw.Body)
			}
		}
		if info, _ := getVMClass(t, env, token, "seed-extraconfig"); info.CPUCount != 2 || info.MemoryMB != 2048 {
			t.Errorf("seed-extraconfig takes its size from the spec: %+v", info)
		}
		out := env.AdminGovc("namespace.vmclass.info", "seed-vgpu")
		if !strings.Contains(out, "CPUs:") || !strings.Contains(out, "4.0GB") || !strings.Contains(out, `"vgpu":"my-vgpu-profile"`) {
			t.Errorf("govc namespace.vmclass.info seed-vgpu:\n%s", out)
		}
		var viaGovc namespace.VirtualMachineClassInfo
		if err := json.Unmarshal([]byte(env.AdminGovc("namespace.vmclass.info", "-json", "seed-ddpio")), &viaGovc); err != nil {
			t.Fatal(err)
		}
		if viaGovc.CpuCount != 4 || viaGovc.MemoryMb != 8192 || !sameJSON(t, viaGovc.ConfigSpec, []byte(seed004DynamicDirectPathIO)) {
			t.Errorf("govc namespace.vmclass.info -json seed-ddpio: %+v", viaGovc)
		}

		// update changes only the field it is given.
		env.AdminGovc("namespace.vmclass.update", "-cpus", "4", "seed-extraconfig")
		info, raw := getVMClass(t, env, token, "seed-extraconfig")
		var spec struct {
			NumCPUs     int   `json:"numCPUs"`
			MemoryMB    int   `json:"memoryMB"`
			ExtraConfig []any `json:"extraConfig"`
		}
		if err := json.Unmarshal(info.ConfigSpec, &spec); err != nil {
			t.Fatal(err)
		}
		if info.CPUCount != 4 || info.MemoryMB != 2048 || spec.NumCPUs != 4 || spec.MemoryMB != 2048 || len(spec.ExtraConfig) != 2 {
			t.Errorf("after govc update -cpus 4: %s", raw.Body)
		}
		env.AdminGovc("namespace.vmclass.update", "-memory", "6144", "seed-vgpu")
		info, raw = getVMClass(t, env, token, "seed-vgpu")
		if info.CPUCount != 2 || info.MemoryMB != 6144 || !sameJSON(t, info.ConfigSpec, []byte(seed004VGPU)) {
			t.Errorf("after govc update -memory 6144: %s", raw.Body)
		}

		// A spec that disagrees with the size given beside it is refused, naming both values.
		_, errOut, code := env.Govc(servertest.Admin, servertest.AdminPassword, "namespace.vmclass.create", "-cpus", "4", "-spec", seed004ExtraConfig, "seed-mismatch")
		if code == 0 || !strings.Contains(errOut, "400") {
			t.Errorf("govc create with -cpus 4 and a spec of 2 CPUs: exit %d %s", code, errOut)
		}
		r := env.Do("POST", vmClassesPath, token, fmt.Sprintf(`{"id": "seed-mismatch", "cpu_count": 4, "memory_MB": 2048, "config_spec": %s}`, seed004ExtraConfig))
		expectInvalid(t, r, "spec.config_spec.numCPUs", "2", "4")

		env.AdminGovc("namespace.vmclass.rm", "seed-ddpio")
		if r := env.Do("GET", vmClassesPath+"/seed-ddpio", token, nil); r.Status != 404 {
			t.Errorf("after govc rm: %d %s", r.Status, r.Body)
		}
		out = env.AdminGovc("namespace.vmclass.ls")
		ids := strings.Fields(out)
		if slices.Contains(ids, "seed-ddpio") || !slices.Contains(ids, "seed-vgpu") || !slices.Contains(ids, "seed-extraconfig") {
			t.Errorf("govc namespace.vmclass.ls after rm:\n%s", out)
		}
	})

	t.Run("UpdateIsAPatch", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		createVMClass(t, env, token, map[string]any{"id": "patch-class", "cpu_count": 4, "memory_mb": 8192,
			"cpu_reservation": 25, "memory_reservation": 100, "description": "before",
			"devices":          map[string]any{"vgpu_devices": []any{map[string]any{"profile_name": "grid_a100-10c"}}},
			"instance_storage": map[string]any{"policy": policyGold, "volumes": []any{map[string]any{"size": 10240}}},
			"config_spec":      json.RawMessage(strings.NewReplacer(`"numCPUs": 2`, `"numCPUs": 4`, `"memoryMB": 2048`, `"memoryMB": 8192`).Replace(seed004ExtraConfig))})
		_, before := getVMClass(t, env, token, "patch-class")
		if !strings.Contains(string(before.Body), `"memory_MB":8192`) || strings.Contains(string(before.Body), `"memory_mb"`) {
			t.Fatalf("memory is answered as memory_MB: %s", before.Body)
		}
		for _, step := range []struct {
			patch string
			check func(vmClassInfo) bool
		}{
			{`{"description": "after"}`, func(i vmClassInfo) bool { return i.Description == "after" && i.CPUCount == 4 && i.MemoryMB == 8192 }},
			{`{"memory_mb": 16384}`, func(i vmClassInfo) bool {
				// The stored spec's memoryMB follows the new size; its other properties stay.
				return i.MemoryMB == 16384 && i.Description == "after" && *i.CPUReservation == 25 &&
					strings.Contains(string(i.ConfigSpec), `"memoryMB":16384`) && strings.Contains(string(i.ConfigSpec), `"numCPUs":4`) &&
					strings.Contains(string(i.ConfigSpec), `"my-value-2"`)
			}},
			{`{"cpu_reservation": 0}`, func(i vmClassInfo) bool { return *i.CPUReservation == 0 && *i.MemoryReservation == 100 }},
			{`{"devices": {"dynamic_direct_path_IO_devices": [{"vendor_id": 4318, "device_id": 7604, "custom_label": "gpu0"}]}}`, func(i vmClassInfo) bool {
				return len(i.Devices.VGPUDevices) == 1 && len(i.Devices.DynamicDirectPathIODevices) == 1
			}},
			{`{"devices": {"vgpu_devices": []}}`, func(i vmClassInfo) bool {
				return len(i.Devices.VGPUDevices) == 0 && len(i.Devices.DynamicDirectPathIODevices) == 1
			}},
			{`{"instance_storage": {"policy": "` + policySilver + `", "volumes": [{"size": 1024}, {"size": 2048}]}}`, func(i vmClassInfo) bool {
				return i.InstanceStorage.Policy == policySilver && len(i.InstanceStorage.Volumes) == 2 && i.Description == "after"
			}},
			{`{"config_spec": ` + seed004VGPU + `}`, func(i vmClassInfo) bool {
				return i.MemoryMB == 16384 && i.CPUCount == 4 && len(i.InstanceStorage.Volumes) == 2
			}},
			{`{"config_spec": {"numCPUs": 8}}`, func(i vmClassInfo) bool { return i.CPUCount == 8 && i.MemoryMB == 16384 }},
		} {
			if r := env.Do("PATCH", vmClassesPath+"/patch-class", token, step.patch); r.Status != 204 {
				t.Fatalf("PATCH %s: %d %s", step.patch, r.Status, r.Body)
			}
			if info, raw := getVMClass(t, env, token, "patch-class"); !step.check(info) {
				t.Fatalf("after PATCH %s: %s", step.patch, raw.Body)
			}
		}
		if r := env.Do("PATCH", vmClassesPath+"/no-such-class", token, `{"cpu_count": 2}`); r.Status != 404 || r.ErrorType() != "NOT_FOUND" {
			t.Fatalf("PATCH of an unknown class: %d %s", r.Status, r.Body)
		}
	})

	t.Run("BadInputOnCreate", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		valid := func() map[string]any {
			return map[string]any{"id": "bad-input", "cpu_count": 2, "memory_MB": 2048}
		}
		vgpu := func(name string) map[string]any {
			return map[string]any{"vgpu_devices": []any{map[string]any{"profile_name": name}}}
		}
		ddpio := func(vendor, device int64) map[string]any {
			return map[string]any{"dynamic_direct_path_IO_devices": []any{map[string]any{"vendor_id": vendor, "device_id": device}}}
		}
		spec := func(s string) json.RawMessage { return json.RawMessage(s) }
		for _, tc := range []struct {
			name         string
			set          map[string]any
			drop         string
			field, value string
			says         string
		}{
			{name: "id with capitals", set: map[string]any{"id": "Bad_Name"}, field: "spec.id", value: "Bad_Name", says: "DNS label"},
			{name: "id starting with a dash", set: map[string]any{"id": "-lead"}, field: "spec.id", value: "-lead"},
			{name: "id ending with a dash", set: map[string]any{"id": "trail-"}, field: "spec.id", value: "trail-"},
			{name: "id too long", set: map[string]any{"id": strings.Repeat("a", 64)}, field: "spec.id", value: strings.Repeat("a", 64), says: "63"},
			{name: "empty id", set: map[string]any{"id": ""}, field: "spec.id", value: ""},
			{name: "id missing", drop: "id", field: "spec.id"},
			{name: "cpu_count missing", drop: "cpu_count", field: "spec.cpu_count"},
			{name: "memory missing", drop: "memory_MB", field: "spec.memory_MB"},
			{name: "cpu_count zero", set: map[string]any{"cpu_count": 0}, field: "spec.cpu_count", value: "0", says: "positive"},
			{name: "cpu_count negative", set: map[string]any{"cpu_count": -1}, field: "spec.cpu_count", value: "-1"},
			{name: "cpu_count beyond every host", set: map[string]any{"cpu_count": 33}, field: "spec.cpu_count", value: "33", says: "32 cores"},
			{name: "cpu_count a string", set: map[string]any{"cpu_count": "two"}, field: "spec.cpu_count", value: "two"},
			{name: "cpu_count a fraction", set: map[string]any{"cpu_count": 1.5}, field: "spec.cpu_count", value: "1.5"},
			{name: "memory zero", set: map[string]any{"memory_MB": 0}, field: "spec.memory_MB", value: "0"},
			{name: "memory beyond every host", set: map[string]any{"memory_MB": 524289}, field: "spec.memory_MB", value: "524289", says: "524288 MB"},
			{name: "cpu reservation negative", set: map[string]any{"cpu_reservation": -1}, field: "spec.cpu_reservation", value: "-1", says: "0 to 100"},
			{name: "cpu reservation over 100", set: map[string]any{"cpu_reservation": 101}, field: "spec.cpu_reservation", value: "101"},
			{name: "memory reservation over 100", set: map[string]any{"memory_reservation": 150}, field: "spec.memory_reservation", value: "150"},
			{name: "description not a string", set: map[string]any{"description": 7}, field: "spec.description", value: "7"},
			{name: "unknown field", set: map[string]any{"colour": "blue"}, field: "spec.colour", value: "blue"},
			{name: "vGPU profile with a space", set: map[string]any{"devices": vgpu("grid t4"), "memory_reservation": 100},
				field: "spec.devices.vgpu_devices[0].profile_name", value: "grid t4"},
			{name: "empty vGPU profile", set: map[string]any{"devices": vgpu(""), "memory_reservation": 100},
				field: "spec.devices.vgpu_devices[0].profile_name", value: ""},
			{name: "vGPU without a full memory reservation", set: map[string]any{"devices": vgpu("grid_t4-4q")},
				field: "spec.memory_reservation", value: "(none)", says: "must be 100"},
			{name: "DirectPath I/O with half the memory reserved", set: map[string]any{"devices": ddpio(0x10de, 0x1db4), "memory_reservation": 50},
				field: "spec.memory_reservation", value: "50"},
			{name: "PCI vendor beyond 16 bits", set: map[string]any{"devices": ddpio(70000, 1), "memory_reservation": 100},
				field: "spec.devices.dynamic_direct_path_IO_devices[0].vendor_id", value: "70000", says: "16 bits"},
			{name: "PCI vendor 0xFFFF", set: map[string]any{"devices": ddpio(0xffff, 1), "memory_reservation": 100},
				field: "spec.devices.dynamic_direct_path_IO_devices[0].vendor_id", value: "65535", says: "no device"},
			{name: "PCI device below a signed short", set: map[string]any{"devices": ddpio(0x10de, -40000), "memory_reservation": 100},
				field: "spec.devices.dynamic_direct_path_IO_devices[0].device_id", value: "-40000"},
			{name: "instance storage with an unknown policy", set: map[string]any{"instance_storage": map[string]any{"policy": "nope", "volumes": []any{map[string]any{"size": 1}}}},
				field: "spec.instance_storage.policy", value: "nope"},
			{name: "instance storage without volumes", set: map[string]any{"instance_storage": map[string]any{"policy": policyGold, "volumes": []any{}}},
				field: "spec.instance_storage.volumes", value: "[]"},
			{name: "instance storage volume of size 0", set: map[string]any{"instance_storage": map[string]any{"policy": policyGold, "volumes": []any{map[string]any{"size": 0}}}},
				field: "spec.instance_storage.volumes[0].size", value: "0"},
			{name: "config spec not an object", set: map[string]any{"config_spec": []any{1}}, field: "spec.config_spec", says: "expected an object"},
			{name: "config spec of another type", set: map[string]any{"config_spec": spec(`{"_typeName": "VirtualMachineConfigInfo", "numCPUs": 2}`)},
				field: "spec.config_spec", says: "VirtualMachineConfigInfo"},
			{name: "config spec with a misspelt property", set: map[string]any{"config_spec": spec(`{"numCPU": 2}`)},
				field: "spec.config_spec", says: "numCPU is not a property of VirtualMachineConfigSpec"},
			{name: "config spec with a wrongly typed value", set: map[string]any{"config_spec": spec(`{"numCPUs": "2"}`)},
				field: "spec.config_spec", says: "numCPUs"},
			{name: "config spec CPUs disagreeing", set: map[string]any{"config_spec": spec(`{"numCPUs": 4}`)},
				field: "spec.config_spec.numCPUs", value: "4", says: "spec.cpu_count, which is 2"},
			{name: "config spec memory disagreeing", set: map[string]any{"config_spec": spec(`{"memoryMB": 4096}`)},
				field: "spec.config_spec.memoryMB", value: "4096", says: "spec.memory_MB, which is 2048"},
			{name: "config spec removing a device", set: map[string]any{"config_spec": spec(strings.Replace(seed004VGPU, `"add"`, `"remove"`, 1))},
				field: "spec.config_spec.deviceChange[0].operation", value: "remove", says: "only add"},
			{name: "config spec editing a device", set: map[string]any{"config_spec": spec(strings.Replace(seed004VGPU, `"add"`, `"edit"`, 1))},
				field: "spec.config_spec.deviceChange[0].operation", value: "edit"},
			{name: "config spec with a bad vGPU profile", set: map[string]any{"config_spec": spec(strings.Replace(seed004VGPU, "my-vgpu-profile", "my/profile", 1))},
				field: "spec.config_spec.deviceChange[0].device.backing.vgpu", value: "my/profile"},
			{name: "config spec with a bad PCI vendor", set: map[string]any{"config_spec": spec(strings.Replace(seed004DynamicDirectPathIO, `"vendorId": -999`, `"vendorId": 99999`, 1))},
				field: "spec.config_spec.deviceChange[0].device.backing.allowedDevice[0].vendorId", value: "99999"},
		} {
			body := valid()
			for k, v := range tc.set {
				body[k] = v
			}
			delete(body, tc.drop)
			r := env.Do("POST", vmClassesPath, token, body)
			if r.Status == 204 {
				t.Fatalf("%s: accepted", tc.name)
			}
			expectInvalid(t, r, tc.field, tc.value, tc.says)
			if id, ok := body["id"].(string); ok && id != "" && len(id) < 64 {
				if g := env.Do("GET", vmClassesPath+"/"+id, token, nil); g.Status != 404 {
					t.Fatalf("%s: a refused create left a class behind: %s", tc.name, g.Body)
				}
			}
		}
		// Several bad fields are reported together.
		r := env.Do("POST", vmClassesPath, token, `{"id": "Bad", "cpu_count": 0, "memory_MB": -5}`)
		if msgs := vapiMessages(t, r); r.Status != 400 || len(msgs) != 3 {
			t.Fatalf("three bad fields: %d %s", r.Status, r.Body)
		}
		// The largest size a host can hold is accepted.
		createVMClass(t, env, token, `{"id": "largest-fit", "cpu_count": 32, "memory_MB": 524288}`)
	})

	t.Run("BadInputOnUpdate", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		createVMClass(t, env, token, map[string]any{"id": "update-target", "cpu_count": 2, "memory_MB": 2048, "description": "kept",
			"config_spec": json.RawMessage(seed004ExtraConfig)})
		_, before := getVMClass(t, env, token, "update-target")
		for _, tc := range []struct {
			name, patch, field, value, says string
		}{
			{"negative cpu_count", `{"cpu_count": -2}`, "spec.cpu_count", "-2", "positive"},
			{"cpu_count beyond every host", `{"cpu_count": 64}`, "spec.cpu_count", "64", "cores"},
			{"memory beyond every host", `{"memory_MB": 600000}`, "spec.memory_MB", "600000", ""},
			{"memory through the alias", `{"memory_mb": -1}`, "spec.memory_MB", "-1", ""},
			{"reservation over 100", `{"memory_reservation": 101}`, "spec.memory_reservation", "101", ""},
			{"another id", `{"id": "other-class"}`, "spec.id", "other-class", "cannot change"},
			{"spec disagreeing with the cpu_count beside it", `{"cpu_count": 4, "config_spec": {"numCPUs": 6}}`, "spec.config_spec.numCPUs", "6", "which is 4"},
			{"spec beyond every host", `{"config_spec": {"numCPUs": 40}}`, "spec.config_spec.numCPUs", "40", "cores"},
			{"spec editing a device", `{"config_spec": ` + strings.Replace(seed004VGPU, `"add"`, `"edit"`, 1) + `}`, "spec.config_spec.deviceChange[0].operation", "edit", ""},
			{"vGPU without a full reservation", `{"devices": {"vgpu_devices": [{"profile_name": "grid_t4-4q"}]}}`, "spec.memory_reservation", "(none)", ""},
			{"bad vGPU profile", `{"devices": {"vgpu_devices": [{"profile_name": "!"}]}, "memory_reservation": 100}`, "spec.devices.vgpu_devices[0].profile_name", "!", ""},
			{"unknown policy", `{"instance_storage": {"policy": "nope", "volumes": [{"size": 1}]}}`, "spec.instance_storage.policy", "nope", ""},
			{"unknown field", `{"cpus": 4}`, "spec.cpus", "4", ""},
			{"wrongly typed description", `{"description": ["x"]}`, "spec.description", `["x"]`, ""},
		} {
			r := env.Do("PATCH", vmClassesPath+"/update-target", token, tc.patch)
			expectInvalid(t, r, tc.field, tc.value, tc.says)
			if _, after := getVMClass(t, env, token, "update-target"); string(after.Body) != string(before.Body) {
				t.Fatalf("%s: a refused update changed the class:\n%s\n%s", tc.name, before.Body, after.Body)
			}
		}
	})

	t.Run("ClassInUseIsRemovedWhenItsLastVMGoes", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		createVMClass(t, env, token, `{"id": "in-use-class", "cpu_count": 2, "memory_MB": 2048}`)
		env.AdminGovc("vm.create", "-on=false", "-c", "2", "-m", "2048", "-pool", "/Datacenter/host/Cluster-A/Resources", "-ds", "SharedDatastore", "-net", "DPG-Workload", "vmclass-user")
		env.AdminGovc("vm.change", "-vm", "/Datacenter/vm/vmclass-user", "-e", "wcpd.vmClass=in-use-class")
		ref := strings.TrimSpace(env.AdminGovc("ls", "-i", "/Datacenter/vm/vmclass-user"))
		vmID := strings.TrimPrefix(ref, "VirtualMachine:")
		if info, raw := getVMClass(t, env, token, "in-use-class"); !reflect.DeepEqual(info.VMs, []string{vmID}) {
			t.Fatalf("vms of in-use-class, want [%s]: %s", vmID, raw.Body)
		}
		if r := env.Do("DELETE", vmClassesPath+"/in-use-class", token, nil); r.Status != 204 {
			t.Fatalf("delete of a class in use: %d %s", r.Status, r.Body)
		}
		info, raw := getVMClass(t, env, token, "in-use-class")
		if info.ConfigStatus != "REMOVING" || len(info.Messages) != 1 || !reflect.DeepEqual(info.VMs, []string{vmID}) {
			t.Fatalf("a deleted class in use: %s", raw.Body)
		}
		// While it is being removed it cannot change, nor be created again; deleting again is fine.
		if r := env.Do("PATCH", vmClassesPath+"/in-use-class", token, `{"cpu_count": 4}`); r.Status != 400 || r.ErrorType() != "NOT_ALLOWED_IN_CURRENT_STATE" {
			t.Fatalf("update while REMOVING: %d %s", r.Status, r.Body)
		}
		if r := env.Do("POST", vmClassesPath, token, `{"id": "in-use-class", "cpu_count": 2, "memory_MB": 2048}`); r.ErrorType() != "ALREADY_EXISTS" {
			t.Fatalf("create while REMOVING: %d %s", r.Status, r.Body)
		}
		if r := env.Do("DELETE", vmClassesPath+"/in-use-class", token, nil); r.Status != 204 {
			t.Fatalf("second delete: %d %s", r.Status, r.Body)
		}
		// Time passes; the VM still uses the class, so it stays.
		env.Settle(30 * time.Second)
		if info, _ := getVMClass(t, env, token, "in-use-class"); info.ConfigStatus != "REMOVING" {
			t.Fatalf("the class went while a VM still uses it: %+v", info)
		}
		env.AdminGovc("vm.destroy", "/Datacenter/vm/vmclass-user")
		env.Settle(10 * time.Second)
		if r := env.Do("GET", vmClassesPath+"/in-use-class", token, nil); r.Status != 404 {
			t.Fatalf("the class stays after its last VM went: %d %s", r.Status, r.Body)
		}
	})

	t.Run("LegacyRestProtocol", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		legacyPath := "/rest/vcenter/namespace-management/virtual-machine-classes"
		r := env.Do("POST", legacyPath, token, `{"spec": {"id": "legacy-class", "cpu_count": 1, "memory_MB": 512}}`)
		if r.Status != 200 {
			t.Fatalf("create on /rest: %d %s", r.Status, r.Body)
		}
		r = env.Do("GET", legacyPath+"/legacy-class", token, nil)
		var got struct {
			Value vmClassInfo `json:"value"`
		}
		r.JSON(t, &got)
		if got.Value.ID != "legacy-class" || got.Value.MemoryMB != 512 {
			t.Fatalf("get on /rest: %s", r.Body)
		}
		r = env.Do("PATCH", legacyPath+"/legacy-class", token, `{"spec": {"cpu_count": 0, "memory_MB": -1}}`)
		if r.Status != 400 || !strings.Contains(string(r.Body), `"type":"com.vmware.vapi.std.errors.invalid_argument"`) {
			t.Fatalf("bad update on /rest: %d %s", r.Status, r.Body)
		}
	})

	t.Run("ReadOnlyUserReadsButCannotChange", func(t *testing.T) {
		t.Parallel()
		env := shared.For(t)
		env.AddUser("vmclass-reader", "Reader-pw-1", auth.RoleReadOnly)
		reader := env.Login("vmclass-reader", "Reader-pw-1")
		if r := env.Do("GET", vmClassesPath, reader, nil); r.Status != 200 {
			t.Fatalf("list as read-only user: %d %s", r.Status, r.Body)
		}
		if r := env.Do("GET", vmClassesPath+"/best-effort-small", reader, nil); r.Status != 200 {
			t.Fatalf("get as read-only user: %d %s", r.Status, r.Body)
		}
		for _, req := range []struct{ method, path, body string }{
			{"POST", vmClassesPath, `{"id": "reader-class", "cpu_count": 1, "memory_MB": 512}`},
			{"PATCH", vmClassesPath + "/best-effort-small", `{"cpu_count": 4}`},
			{"DELETE", vmClassesPath + "/best-effort-small", ""},
		} {
			var body any
			if req.body != "" {
				body = req.body
			}
			if r := env.Do(req.method, req.path, reader, body); r.Status != 403 || r.ErrorType() != "UNAUTHORIZED" {
				t.Fatalf("%s %s as read-only user: %d %s", req.method, req.path, r.Status, r.Body)
			}
		}
		if info, _ := getVMClass(t, env, token, "best-effort-small"); info.CPUCount != 2 {
			t.Fatalf("best-effort-small changed: %+v", info)
		}
	})
}

// TestVMClassesSurviveRestart: the default classes are created once; what the administrator
// changed or deleted stays so across a restart, and a removal waiting for its VMs finishes.
func TestVMClassesSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := servertest.New(t, servertest.WithDataDir(dir))
	token := first.AdminToken()
	if r := first.Do("PATCH", vmClassesPath+"/best-effort-small", token, `{"description": "edited", "cpu_count": 3}`); r.Status != 204 {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	if r := first.Do("DELETE", vmClassesPath+"/best-effort-xsmall", token, nil); r.Status != 204 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	createVMClass(t, first, token, `{"id": "kept-class", "cpu_count": 1, "memory_MB": 1024}`)
	createVMClass(t, first, token, `{"id": "removing-class", "cpu_count": 1, "memory_MB": 1024}`)
	first.AdminGovc("vm.create", "-on=false", "-pool", "/Datacenter/host/Cluster-B/Resources", "-ds", "SharedDatastore", "-net", "DPG-Workload", "restart-vm")
	first.AdminGovc("vm.change", "-vm", "/Datacenter/vm/restart-vm", "-e", "wcpd.vmClass=removing-class")
	if r := first.Do("DELETE", vmClassesPath+"/removing-class", token, nil); r.Status != 204 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if info, _ := getVMClass(t, first, token, "removing-class"); info.ConfigStatus != "REMOVING" {
		t.Fatalf("removing-class: %+v", info)
	}
	if err := first.Server.Close(); err != nil {
		t.Fatal(err)
	}

	// The inventory is durable: the VM that holds removing-class is still there, and the removal
	// finishes once the VM goes.
	second := servertest.New(t, servertest.WithDataDir(dir))
	second.Settle(0)
	token = second.AdminToken()
	if info, _ := getVMClass(t, second, token, "removing-class"); info.ConfigStatus != "REMOVING" {
		t.Fatalf("removing-class after the restart: %+v", info)
	}
	second.AdminGovc("vm.destroy", "/Datacenter/vm/restart-vm")
	second.Settle(10 * time.Second)
	var list []vmClassInfo
	second.Do("GET", vmClassesPath, token, nil).JSON(t, &list)
	ids := map[string]int{}
	for _, c := range list {
		ids[c.ID]++
	}
	if len(list) != 16 || ids["best-effort-xsmall"] != 0 || ids["kept-class"] != 1 || ids["removing-class"] != 0 || ids["guaranteed-xsmall"] != 1 {
		t.Fatalf("classes after the restart and the VM's removal: %v", ids)
	}
	if info, _ := getVMClass(t, second, token, "best-effort-small"); info.Description != "edited" || info.CPUCount != 3 || info.MemoryMB != 4096 {
		t.Fatalf("best-effort-small after the restart: %+v", info)
	}
}

// TestVMClassesOfferedByNamespaces: get names the namespaces whose vm_service_spec offers a class;
// a class being removed cannot be offered any more, and once gone no namespace offers it.
func TestVMClassesOfferedByNamespaces(t *testing.T) {
	t.Parallel()
	env := servertest.New(t)
	token := env.AdminToken()
	enableSupervisor(t, env, token, clusterA, 11)
	createVMClass(t, env, token, `{"id": "offered-class", "cpu_count": 2, "memory_MB": 2048}`)
	createVMClass(t, env, token, `{"id": "leaving-class", "cpu_count": 2, "memory_MB": 2048}`)
	r := env.Do("POST", "/api/vcenter/namespaces/instances", token, map[string]any{"cluster": clusterA, "namespace": "vmclass-ns",
		"vm_service_spec": map[string]any{"vm_classes": []string{"offered-class", "best-effort-xsmall"}}})
	if r.ErrorType() == "UNSUPPORTED" {
		t.Skip("skipped: wcpd does not implement namespaces yet")
	}
	if r.Status != 204 {
		t.Fatalf("create namespace: %d %s", r.Status, r.Body)
	}
	env.Settle(time.Minute)
	if info, raw := getVMClass(t, env, token, "offered-class"); !reflect.DeepEqual(info.Namespaces, []string{"vmclass-ns"}) {
		t.Fatalf("offered-class is offered by vmclass-ns: %s", raw.Body)
	}
	if info, raw := getVMClass(t, env, token, "leaving-class"); len(info.Namespaces) != 0 {
		t.Fatalf("leaving-class is offered by no namespace: %s", raw.Body)
	}

	// A class deleted while a VM uses it is REMOVING: a namespace cannot start offering it.
	env.AdminGovc("vm.create", "-on=false", "-pool", "/Datacenter/host/Cluster-A/Resources", "-ds", "SharedDatastore", "-net", "DPG-Workload", "leaving-vm")
	env.AdminGovc("vm.change", "-vm", "/Datacenter/vm/leaving-vm", "-e", "wcpd.vmClass=leaving-class")
	if r := env.Do("DELETE", vmClassesPath+"/leaving-class", token, nil); r.Status != 204 {
		t.Fatalf("delete leaving-class: %d %s", r.Status, r.Body)
	}
	r = env.Do("PATCH", "/api/vcenter/namespaces/instances/vmclass-ns", token,
		`{"vm_service_spec": {"vm_classes": ["offered-class", "leaving-class"]}}`)
	if r.Status != 400 || r.ErrorType() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "leaving-class") {
		t.Fatalf("offering a class being removed: %d %s", r.Status, r.Body)
	}

	// Deleting a class no VM uses takes it out of the namespaces that offered it.
	if r := env.Do("DELETE", vmClassesPath+"/offered-class", token, nil); r.Status != 204 {
		t.Fatalf("delete offered-class: %d %s", r.Status, r.Body)
	}
	var ns struct {
		VMServiceSpec struct {
			VMClasses []string `json:"vm_classes"`
		} `json:"vm_service_spec"`
	}
	env.Do("GET", "/api/vcenter/namespaces/instances/vmclass-ns", token, nil).JSON(t, &ns)
	if !reflect.DeepEqual(ns.VMServiceSpec.VMClasses, []string{"best-effort-xsmall"}) {
		t.Fatalf("vm_classes of vmclass-ns after offered-class was deleted: %v", ns.VMServiceSpec.VMClasses)
	}
}
