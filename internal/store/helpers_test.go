package store

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests; nothing should come near it.
const testTimeout = 30 * time.Second

// widget is the record type the tests store.
type widget struct {
	Name   string         `json:"name"`
	Size   int            `json:"size,omitempty"`
	Labels map[string]int `json:"labels,omitempty"`
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// testLogger sends warnings and errors to the test log, and drops anything
// logged after the test has finished.
func testLogger(t *testing.T) *slog.Logger {
	w := &testLogWriter{t: t}
	t.Cleanup(func() { // registered first, so it runs after every Close
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testLogWriter struct {
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// openStore opens a store that is closed when the test ends.
func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := Open(testContext(t), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openEmbedded(t *testing.T) *Store {
	t.Helper()
	return openStore(t, Config{DataDir: t.TempDir()})
}

func openCollection[T any](t *testing.T, s *Store, kind string) *Collection[T] {
	t.Helper()
	c, err := NewCollection[T](s, kind)
	if err != nil {
		t.Fatalf("NewCollection(%q): %v", kind, err)
	}
	return c
}

func mustCreate[T any](t *testing.T, c *Collection[T], key string, v T) Record[T] {
	t.Helper()
	rec, err := c.Create(testContext(t), key, v)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rec
}

// nextEvent returns the next event on ch, failing the test if none comes.
func nextEvent[T any](t *testing.T, ch <-chan Event[T]) Event[T] {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed; expected an event")
		}
		return ev
	case <-time.After(testTimeout):
		t.Fatal("no watch event within the test timeout")
	}
	panic("unreachable")
}

// expectClosed fails the test unless ch is closed (after draining nothing).
func expectClosed[T any](t *testing.T, ch <-chan Event[T]) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("got event %+v; expected the channel to be closed", ev)
		}
	case <-time.After(testTimeout):
		t.Fatal("watch channel not closed within the test timeout")
	}
}

// awaitRevision waits until c's cache reflects revision rev, for records
// written through another Store.
func awaitRevision[T any](t *testing.T, c *Collection[T], rev int64) {
	t.Helper()
	if err := c.awaitApplied(testContext(t), rev); err != nil {
		t.Fatalf("cache of %s never reached revision %d: %v", c.kind, rev, err)
	}
}
