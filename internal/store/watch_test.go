package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestWatchDeliversChangesInOrder(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	mustCreate(t, c, "before", widget{Name: "before"}) // not reported: predates the watch

	events := c.Watch(ctx)
	created := mustCreate(t, c, "w", widget{Name: "v1"})
	updated, err := c.Update(ctx, "w", created.Revision, widget{Name: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "w", 0); err != nil {
		t.Fatal(err)
	}
	afterDelete, _ := c.Put(ctx, "after", widget{Name: "after"})

	want := []struct {
		typ  EventType
		key  string
		name string
		rev  int64
	}{
		{Put, "w", "v1", created.Revision},
		{Put, "w", "v2", updated.Revision},
		{Delete, "w", "v2", 0}, // a Delete carries the last value, at the deletion's revision
		{Put, "after", "after", afterDelete.Revision},
	}
	for i, w := range want {
		ev := nextEvent(t, events)
		revOK := ev.Record.Revision == w.rev
		if w.typ == Delete {
			revOK = ev.Record.Revision > updated.Revision && ev.Record.Revision < afterDelete.Revision
		}
		if ev.Type != w.typ || ev.Record.Key != w.key || ev.Record.Value.Name != w.name || !revOK {
			t.Fatalf("event %d = %v %+v; want %v %s %q at revision %d", i, ev.Type, ev.Record, w.typ, w.key, w.name, w.rev)
		}
	}
}

func TestWatchWithExistingStartsWithCurrentContents(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	for _, key := range []string{"b", "a"} {
		mustCreate(t, c, key, widget{Name: key})
	}

	events := c.Watch(ctx, WithExisting())
	mustCreate(t, c, "c", widget{Name: "c"})
	for _, key := range []string{"a", "b", "c"} {
		if ev := nextEvent(t, events); ev.Type != Put || ev.Record.Key != key {
			t.Fatalf("got %v %q; want Put %q", ev.Type, ev.Record.Key, key)
		}
	}
}

func TestWatchEndsWithItsContextAndWithTheStore(t *testing.T) {
	t.Parallel()
	s := openEmbedded(t)
	c := openCollection[widget](t, s, "widgets")

	ctx, cancel := context.WithCancel(testContext(t))
	events := c.Watch(ctx)
	cancel()
	expectClosed(t, events)

	events = c.Watch(testContext(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, events)
	expectClosed(t, c.Watch(testContext(t))) // a watch on a closed store ends at once
	if _, err := c.Put(testContext(t), "w", widget{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v; want ErrClosed", err)
	}
}

func TestSlowWatcherDoesNotBlockWrites(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := openCollection[widget](t, openEmbedded(t), "widgets")
	events := c.Watch(ctx) // not read until every write is done

	const writes = 100
	for i := range writes {
		if _, err := c.Put(ctx, "w", widget{Size: i}); err != nil {
			t.Fatalf("write %d with an unread watcher: %v", i, err)
		}
	}
	for i := range writes {
		if ev := nextEvent(t, events); ev.Record.Value.Size != i {
			t.Fatalf("event %d carries size %d", i, ev.Record.Value.Size)
		}
	}
}

func TestWatchSeesWritesFromAnotherStore(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	other := openStore(t, Config{Endpoints: []string{s.ClientURL()}, ClientTLS: s.ClientTLSFiles()})
	mine := openCollection[widget](t, s, "widgets")
	theirs := openCollection[widget](t, other, "widgets")

	events := mine.Watch(ctx)
	rec, err := theirs.Create(ctx, "w", widget{Name: "from elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, events)
	if ev.Type != Put || ev.Record.Value.Name != "from elsewhere" || ev.Record.Revision != rec.Revision {
		t.Fatalf("got %v %+v; want the other store's create at %d", ev.Type, ev.Record, rec.Revision)
	}
	if got, ok := mine.Get("w"); !ok || got.Revision != rec.Revision {
		t.Fatalf("cache lags its own watch event: %+v", got)
	}
}

// A reload (after the etcd watch broke) reports exactly the records that
// differ from the cache, so watchers converge on the stored state.
func TestReloadReportsOnlyDifferences(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	s := openEmbedded(t)
	c := newCollection[widget](s, "widgets") // not following etcd: reloads are driven by hand
	raw := func(key, name string) int64 {
		resp, err := s.client.Put(ctx, c.prefix+key, fmt.Sprintf(`{"name":%q}`, name))
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	raw("a", "a1")
	raw("b", "b1")
	raw("c", "c1")
	if _, err := c.relist(ctx); err != nil {
		t.Fatal(err)
	}
	events := c.Watch(ctx)

	if _, err := c.relist(ctx); err != nil { // nothing changed: nothing reported
		t.Fatal(err)
	}
	aRev := raw("a", "a2")
	if _, err := s.client.Delete(ctx, c.prefix+"b"); err != nil {
		t.Fatal(err)
	}
	dRev := raw("d", "d1")
	if _, err := s.client.Put(ctx, c.prefix+"e", "not json"); err != nil { // unreadable: left out
		t.Fatal(err)
	}
	listedAt, err := c.relist(ctx)
	if err != nil {
		t.Fatal(err)
	}

	want := []struct {
		typ  EventType
		key  string
		name string
		rev  int64
	}{
		{Put, "a", "a2", aRev},
		{Put, "d", "d1", dRev},
		{Delete, "b", "b1", listedAt},
	}
	for i, w := range want {
		ev := nextEvent(t, events)
		if ev.Type != w.typ || ev.Record.Key != w.key || ev.Record.Value.Name != w.name || ev.Record.Revision != w.rev {
			t.Fatalf("event %d = %v %+v; want %v %s %q at %d", i, ev.Type, ev.Record, w.typ, w.key, w.name, w.rev)
		}
	}
	if got := recordKeys(c.List()); fmt.Sprint(got) != "[a c d]" {
		t.Fatalf("after reload List = %v; want [a c d]", got)
	}
}
