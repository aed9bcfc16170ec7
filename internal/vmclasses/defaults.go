package vmclasses

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/wcpd/wcpd/internal/store"
)

// defaultSizes are the sizes of vCenter's default classes, as vCPUs and GiB of memory.
var defaultSizes = []struct {
	name      string
	cpus      int64
	memoryGiB int64
}{
	{"xsmall", 2, 2},
	{"small", 2, 4},
	{"medium", 2, 8},
	{"large", 4, 16},
	{"xlarge", 4, 32},
	{"2xlarge", 8, 64},
	{"4xlarge", 16, 128},
	{"8xlarge", 32, 128},
}

// defaultClasses are the classes every installation starts with: best-effort-* without
// reservations and guaranteed-* reserving all of their CPU and memory.
func defaultClasses() []class {
	var out []class
	for _, s := range defaultSizes {
		full := int64(100)
		out = append(out,
			class{ID: "best-effort-" + s.name, CPUCount: s.cpus, MemoryMB: s.memoryGiB * 1024},
			class{ID: "guaranteed-" + s.name, CPUCount: s.cpus, MemoryMB: s.memoryGiB * 1024,
				CPUReservation: &full, MemoryReservation: &full})
	}
	return out
}

// seededKey is the one record of the seeded-defaults kind.
const seededKey = "defaults"

// seededDefaults lists the default classes already created once. A default the administrator
// deleted is not created again at the next start; one added by a later wcpd version is.
type seededDefaults struct {
	IDs []string `json:"ids"`
}

// seedDefaults creates the default classes that were never created. It never touches an existing
// class, so changes made to a default class survive restarts.
func (f *Family) seedDefaults(ctx context.Context) error {
	var done []string
	if r, ok := f.seeded.Get(seededKey); ok {
		done = r.Value.IDs
	}
	var added []string
	for _, c := range defaultClasses() {
		if slices.Contains(done, c.ID) {
			continue
		}
		if _, err := f.classes.Create(ctx, c.ID, c); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("creating default VM class %s: %w", c.ID, err)
		}
		added = append(added, c.ID)
	}
	if len(added) == 0 {
		return nil
	}
	_, err := f.seeded.Put(ctx, seededKey, seededDefaults{IDs: append(done, added...)})
	if err != nil {
		return fmt.Errorf("recording the default VM classes: %w", err)
	}
	return nil
}
