package inventory

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/vmware/govmomi/vim25/types"
)

func pool(id int) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "ResourcePool", Value: fmt.Sprintf("resgroup-%d", id)}
}

// TestChangeLogAnswersWhatChangedSinceAGeneration: the log names each object changed at or after
// the generation asked for, once, newest first; after it has wrapped, it answers for generations
// it still holds and refuses older ones.
func TestChangeLogAnswersWhatChangedSinceAGeneration(t *testing.T) {
	var l changeLog
	if got, ok := l.since(1); !ok || len(got) != 0 {
		t.Fatalf("an empty log: %v %v, want nothing and ok", got, ok)
	}
	l.add(1, pool(1))
	l.add(2, pool(2))
	l.add(2, types.ManagedObjectReference{}) // a task that named nothing
	l.add(3, pool(1))
	l.add(4, pool(3))
	l.add(4, pool(3)) // a task's progress: one entry
	for _, c := range []struct {
		since uint64
		want  []types.ManagedObjectReference
	}{
		{1, []types.ManagedObjectReference{pool(3), pool(1), pool(2)}},
		{2, []types.ManagedObjectReference{pool(3), pool(1), pool(2)}},
		{3, []types.ManagedObjectReference{pool(3), pool(1)}},
		{4, []types.ManagedObjectReference{pool(3)}},
		{5, nil},
	} {
		if got, ok := l.since(c.since); !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("since %d: %v %v, want %v", c.since, got, ok, c.want)
		}
	}

	// Wrap the log: generations 10 .. 10+size, one object each.
	for i := range changeLogSize + 1 {
		l.add(uint64(10+i), pool(100+i))
	}
	if _, ok := l.since(10); ok {
		t.Error("a generation whose entries were overwritten is answered")
	}
	got, ok := l.since(uint64(10 + changeLogSize))
	if !ok || !reflect.DeepEqual(got, []types.ManagedObjectReference{pool(100 + changeLogSize)}) {
		t.Errorf("the newest generation after wrapping: %v %v", got, ok)
	}
	if got, ok := l.since(12); !ok || len(got) != changeLogSize-1 {
		t.Errorf("the oldest generation kept: %d objects (%v), want %d", len(got), ok, changeLogSize-1)
	}
}
