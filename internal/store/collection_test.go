package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
)

func TestCreateGetUpdatePutDelete(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")

	created := mustCreate(t, c, "b", widget{Name: "bee", Size: 1})
	mustCreate(t, c, "a", widget{Name: "ay"})
	if created.Revision != created.Created || created.Revision == 0 {
		t.Fatalf("new record revisions: Revision %d, Created %d; want equal and non-zero", created.Revision, created.Created)
	}

	got, ok := c.Get("b")
	if !ok || got.Value.Name != "bee" || got.Value.Size != 1 || got.Revision != created.Revision {
		t.Fatalf("Get(b) = %+v, %v; want bee/1 at revision %d", got, ok, created.Revision)
	}
	if keys := recordKeys(c.List()); !slices.Equal(keys, []string{"a", "b"}) {
		t.Fatalf("List keys = %v; want [a b]", keys)
	}

	updated, err := c.Update(ctx, "b", created.Revision, widget{Name: "bee", Size: 2})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Revision <= created.Revision || updated.Created != created.Created {
		t.Fatalf("Update revisions %d/%d; want Revision > %d and Created = %d",
			updated.Revision, updated.Created, created.Revision, created.Created)
	}

	put, err := c.Put(ctx, "b", widget{Name: "bee", Size: 3})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if put.Created != created.Created {
		t.Fatalf("Put over an existing record changed Created to %d; want %d", put.Created, created.Created)
	}
	fresh, err := c.Put(ctx, "c", widget{Name: "sea"})
	if err != nil {
		t.Fatalf("Put new: %v", err)
	}
	if fresh.Created != fresh.Revision {
		t.Fatalf("Put of a new key: Created %d, Revision %d; want equal", fresh.Created, fresh.Revision)
	}
	if got, _ := c.Get("b"); got.Value.Size != 3 || got.Revision != put.Revision {
		t.Fatalf("after Put, Get(b) = %+v; want size 3 at revision %d", got, put.Revision)
	}

	if err := c.Delete(ctx, "b", put.Revision); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Delete(ctx, "c", 0); err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
	if _, ok := c.Get("b"); ok {
		t.Fatal("Get(b) still finds the deleted record")
	}
	if keys := recordKeys(c.List()); !slices.Equal(keys, []string{"a"}) {
		t.Fatalf("List keys after deletes = %v; want [a]", keys)
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d; want 1", c.Len())
	}

	// Recreating a deleted key starts a new incarnation.
	again := mustCreate(t, c, "b", widget{Name: "bee again"})
	if again.Created == created.Created {
		t.Fatal("recreated record kept the old Created revision")
	}
}

func TestErrorsNameTheCause(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	first := mustCreate(t, c, "w", widget{Name: "one"})

	if _, err := c.Create(ctx, "w", widget{Name: "dup"}); !errors.Is(err, ErrExists) {
		t.Errorf("Create over existing: %v; want ErrExists", err)
	}
	if got, _ := c.Get("w"); got.Value.Name != "one" {
		t.Errorf("failed Create changed the record to %+v", got.Value)
	}

	second, err := c.Update(ctx, "w", first.Revision, widget{Name: "two"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "w", first.Revision, widget{Name: "stale"}); !errors.Is(err, ErrConflict) {
		t.Errorf("Update with stale revision: %v; want ErrConflict", err)
	}
	if err := c.Delete(ctx, "w", first.Revision); !errors.Is(err, ErrConflict) {
		t.Errorf("Delete with stale revision: %v; want ErrConflict", err)
	}
	if got, _ := c.Get("w"); got.Value.Name != "two" || got.Revision != second.Revision {
		t.Errorf("after rejected writes Get = %+v; want the second version", got)
	}

	if _, err := c.Update(ctx, "missing", 5, widget{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update of missing key: %v; want ErrNotFound", err)
	}
	if err := c.Delete(ctx, "missing", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("unconditional Delete of missing key: %v; want ErrNotFound", err)
	}
	if err := c.Delete(ctx, "missing", 5); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of missing key with revision: %v; want ErrNotFound", err)
	}
	if _, err := c.Mutate(ctx, "missing", func(*widget) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Mutate of missing key: %v; want ErrNotFound", err)
	}

	// Revision 0 would match a missing key in etcd, silently creating it.
	if _, err := c.Update(ctx, "missing", 0, widget{}); err == nil {
		t.Error("Update with revision 0 succeeded; want an error")
	}
	if _, ok := c.Get("missing"); ok {
		t.Error("a failed Update created the record")
	}
	if _, err := c.Create(ctx, "", widget{}); err == nil {
		t.Error("Create with an empty key succeeded")
	}
}

func TestGetAndListReturnPrivateCopies(t *testing.T) {
	t.Parallel()
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	mustCreate(t, c, "w", widget{Name: "w", Labels: map[string]int{"a": 1}})

	got, _ := c.Get("w")
	got.Value.Labels["a"] = 99
	listed := c.List()
	listed[0].Value.Labels["b"] = 2

	again, _ := c.Get("w")
	if !maps.Equal(again.Value.Labels, map[string]int{"a": 1}) {
		t.Fatalf("caller's changes leaked into the cache: %v", again.Value.Labels)
	}
	shared := c.ListShared()
	if len(shared) != 1 || shared[0].Key != "w" || !maps.Equal(shared[0].Value.Labels, map[string]int{"a": 1}) ||
		shared[0].Revision != again.Revision {
		t.Fatalf("ListShared = %+v; want the cached record", shared)
	}
	if raw, ok := c.RawJSON("w"); !ok || string(raw) != `{"name":"w","labels":{"a":1}}` {
		t.Fatalf("RawJSON = %s, %v", raw, ok)
	}
	if lr := c.ListRaw(); len(lr) != 1 || lr[0].Key != "w" || lr[0].Revision != again.Revision {
		t.Fatalf("ListRaw = %+v", lr)
	}
}

func TestReadYourWrites(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	external := openStore(t, Config{Endpoints: []string{s.ClientURL()}, ClientTLS: s.ClientTLSFiles()})
	for _, c := range []*Collection[widget]{
		openCollection[widget](t, s, "widgets"),
		openCollection[widget](t, external, "gadgets"),
	} {
		for i := range 40 {
			key := fmt.Sprintf("k%d", i%3)
			rec, err := c.Put(ctx, key, widget{Name: key, Size: i})
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Get(key); !ok || got.Value.Size != i || got.Revision != rec.Revision {
				t.Fatalf("%s: Get right after Put = %+v, %v; want size %d at revision %d", c.kind, got, ok, i, rec.Revision)
			}
			rec, err = c.Mutate(ctx, key, func(v *widget) error { v.Size = -i; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Get(key); got.Value.Size != -i || got.Revision != rec.Revision {
				t.Fatalf("%s: Get right after Mutate = %+v; want size %d at revision %d", c.kind, got, -i, rec.Revision)
			}
			if err := c.Delete(ctx, key, rec.Revision); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(key); ok {
				t.Fatalf("%s: Get right after Delete still finds %q", c.kind, key)
			}
			if slices.Contains(recordKeys(c.List()), key) {
				t.Fatalf("%s: List right after Delete still has %q", c.kind, key)
			}
		}
	}
}

func TestUpdateConflictsWithAnotherStoresWrite(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	other := openStore(t, Config{Endpoints: []string{s.ClientURL()}, ClientTLS: s.ClientTLSFiles()})
	mine := openCollection[widget](t, s, "widgets")
	theirs := openCollection[widget](t, other, "widgets")

	base := mustCreate(t, mine, "w", widget{Name: "base"})
	awaitRevision(t, theirs, base.Revision)
	newer, err := theirs.Update(ctx, "w", base.Revision, widget{Name: "theirs"})
	if err != nil {
		t.Fatal(err)
	}
	// The check is etcd's, so it holds even if mine's cache lags.
	if _, err := mine.Update(ctx, "w", base.Revision, widget{Name: "mine"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("Update on stale revision: %v; want ErrConflict", err)
	}
	awaitRevision(t, mine, newer.Revision)
	if got, _ := mine.Get("w"); got.Revision != newer.Revision || got.Value.Name != "theirs" {
		t.Fatalf("Get = %+v; want the other store's write at %d", got, newer.Revision)
	}
}

func TestMutateConcurrentFieldChangesAllSurvive(t *testing.T) {
	t.Parallel()
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	mustCreate(t, c, "w", widget{Name: "shared", Size: 7})
	concurrentFieldMutates(t, []*Collection[widget]{c}, 50)
}

// Writers in two Stores (two processes, as far as etcd can tell) are not
// serialised by Mutate's per-key lock, so they really race on the revision
// check and retry. A Mutate fails at most once on its own stale cache and
// once per write the other Store completes meanwhile, so with 8 writers a
// side it must finish well within its 16 attempts.
func TestMutateAcrossStoresKeepsEveryChange(t *testing.T) {
	t.Parallel()
	s := openEmbedded(t)
	other := openStore(t, Config{Endpoints: []string{s.ClientURL()}, ClientTLS: s.ClientTLSFiles()})
	mine := openCollection[widget](t, s, "widgets")
	mustCreate(t, mine, "w", widget{Name: "shared", Size: 7})
	concurrentFieldMutates(t, []*Collection[widget]{mine, openCollection[widget](t, other, "widgets")}, 16)
}

// concurrentFieldMutates has n goroutines, spread over the collections,
// each set its own label on record "w" at once, then checks that every
// collection ends up showing all n labels and the untouched fields.
func concurrentFieldMutates(t *testing.T, colls []*Collection[widget], n int) {
	t.Helper()
	ctx := testContext(t)
	results := make([]Record[widget], n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			field := fmt.Sprintf("f%02d", i)
			results[i], errs[i] = colls[i%len(colls)].Mutate(ctx, "w", func(v *widget) error {
				if v.Labels == nil {
					v.Labels = map[string]int{}
				}
				v.Labels[field] = i
				return nil
			})
		})
	}
	wg.Wait()

	var last int64
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if results[i].Value.Labels[fmt.Sprintf("f%02d", i)] != i {
			t.Fatalf("writer %d's result lacks its own change: %v", i, results[i].Value.Labels)
		}
		last = max(last, results[i].Revision)
	}
	for _, c := range colls {
		awaitRevision(t, c, last)
		got, _ := c.Get("w")
		if len(got.Value.Labels) != n || got.Value.Name != "shared" || got.Value.Size != 7 {
			t.Fatalf("final record has %d of %d fields (%+v)", len(got.Value.Labels), n, got.Value)
		}
		for i := range n {
			if got.Value.Labels[fmt.Sprintf("f%02d", i)] != i {
				t.Fatalf("field f%02d lost: %v", i, got.Value.Labels)
			}
		}
	}
}

func TestMutateRetriesOnTheNewerRecord(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	mustCreate(t, c, "w", widget{Name: "w"})

	calls := 0
	rec, err := c.Mutate(ctx, "w", func(v *widget) error {
		calls++
		if calls == 1 {
			// A write slipping in between Mutate's read and its write.
			if _, err := c.Put(ctx, "w", widget{Name: "w", Labels: map[string]int{"other": 1}}); err != nil {
				return err
			}
		}
		if v.Labels == nil {
			v.Labels = map[string]int{}
		}
		v.Labels["mine"] = 2
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("fn called %d times; want 2 (one conflict, one retry)", calls)
	}
	want := map[string]int{"other": 1, "mine": 2}
	if got, _ := c.Get("w"); !maps.Equal(got.Value.Labels, want) || got.Revision != rec.Revision {
		t.Fatalf("Get = %+v; want labels %v at revision %d", got, want, rec.Revision)
	}
}

func TestMutateGivesUpAfterBoundedAttempts(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	mustCreate(t, c, "w", widget{Name: "w"})

	calls := 0
	_, err := c.Mutate(ctx, "w", func(v *widget) error {
		calls++
		_, err := c.Put(ctx, "w", widget{Name: "w", Size: calls})
		v.Name = "never stored"
		return err
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Mutate against a constantly changing record: %v; want ErrConflict", err)
	}
	if calls != maxMutateAttempts {
		t.Fatalf("fn called %d times; want %d", calls, maxMutateAttempts)
	}
	if got, _ := c.Get("w"); got.Value.Name != "w" {
		t.Fatalf("a failed Mutate stored its value: %+v", got.Value)
	}
}

func TestMutateErrorAndNoChangeDoNotWrite(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	orig := mustCreate(t, c, "w", widget{Name: "w", Size: 1})

	boom := errors.New("boom")
	if _, err := c.Mutate(ctx, "w", func(v *widget) error { v.Size = 5; return boom }); !errors.Is(err, boom) {
		t.Fatalf("Mutate returned %v; want fn's error", err)
	}
	rec, err := c.Mutate(ctx, "w", func(v *widget) error { v.Size = 1; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if rec.Revision != orig.Revision || rec.Created != orig.Created {
		t.Fatalf("unchanged Mutate returned revision %d; want the original %d", rec.Revision, orig.Revision)
	}
	if got, _ := c.Get("w"); got.Revision != orig.Revision || got.Value.Size != 1 {
		t.Fatalf("record changed to %+v; want it untouched", got)
	}
}

func TestNewCollection(t *testing.T) {
	t.Parallel()
	s := openEmbedded(t)
	a := openCollection[widget](t, s, "widgets")
	if b := openCollection[widget](t, s, "widgets"); a != b {
		t.Error("opening a kind twice gave two collections (two caches that could disagree)")
	}
	if _, err := NewCollection[string](s, "widgets"); err == nil {
		t.Error("opening a kind with a different record type succeeded")
	}
	for _, kind := range []string{"", "a/b", "meta"} {
		if _, err := NewCollection[widget](s, kind); err == nil {
			t.Errorf("NewCollection(%q) succeeded; want an error", kind)
		}
	}
}

func TestCollectionLoadsExistingRecords(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	external := openStore(t, Config{Endpoints: []string{s.ClientURL()}, ClientTLS: s.ClientTLSFiles()})
	c := openCollection[widget](t, s, "widgets")
	for _, key := range []string{"c", "a", "b"} {
		mustCreate(t, c, key, widget{Name: key})
	}
	if err := c.Delete(ctx, "b", 0); err != nil {
		t.Fatal(err)
	}

	loaded := openCollection[widget](t, external, "widgets")
	if got := recordKeys(loaded.List()); !slices.Equal(got, []string{"a", "c"}) {
		t.Fatalf("a new collection on existing data lists %v; want [a c]", got)
	}
}

func recordKeys[T any](recs []Record[T]) []string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	return keys
}

// TestRevisionMovesWithTheCollectionOnly: Revision moves forward with every write to the collection
// that the cache has applied, and stays put for reads, for writes that change nothing and for
// writes to other kinds, so an answer derived at one revision is current while it holds.
func TestRevisionMovesWithTheCollectionOnly(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	c := openCollection[widget](t, s, "widgets")
	other := openCollection[widget](t, s, "gadgets")

	start := c.Revision()
	created := mustCreate(t, c, "a", widget{Name: "ay"})
	if got := c.Revision(); got != created.Revision || got <= start {
		t.Fatalf("after a create Revision is %d; want the create's %d (above %d)", got, created.Revision, start)
	}
	_ = c.List()
	_, _ = c.Get("a")
	if _, err := c.Mutate(ctx, "a", func(*widget) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, other, "x", widget{Name: "ex"})
	if got := c.Revision(); got != created.Revision {
		t.Fatalf("reads, an unchanged Mutate and another kind's write moved Revision from %d to %d", created.Revision, got)
	}
	if err := c.Delete(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if got := c.Revision(); got <= created.Revision {
		t.Fatalf("after a delete Revision is %d; want above %d", got, created.Revision)
	}
}

// TestChangesMovesWithEveryCollection: the store's change count, which the API's kept answers
// follow, moves with a write to any collection by the time the write returns, and with nothing else.
func TestChangesMovesWithEveryCollection(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	c := openCollection[widget](t, s, "widgets")
	other := openCollection[widget](t, s, "gadgets")

	start := s.Changes()
	mustCreate(t, c, "a", widget{Name: "ay"})
	afterCreate := s.Changes()
	if afterCreate <= start {
		t.Fatalf("a create left Changes at %d", afterCreate)
	}
	_ = c.List()
	_, _ = c.Get("a")
	if _, err := c.Mutate(ctx, "a", func(*widget) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := s.Changes(); got != afterCreate {
		t.Fatalf("reads and an unchanged Mutate moved Changes from %d to %d", afterCreate, got)
	}
	mustCreate(t, other, "x", widget{Name: "ex"})
	if got := s.Changes(); got <= afterCreate {
		t.Fatalf("a write to another collection left Changes at %d", got)
	}
}
