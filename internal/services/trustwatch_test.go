//go:build linux

package services

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wcpd/wcpd/internal/vapi"
)

// The kept checks are right only if the trust store's version moves with every way an
// administrator may change a key file, and useful only if it stays put otherwise (a check reading
// the files must not count as a change).
func TestTrustWatchFollowsEveryEditOfTheStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trust")
	elsewhere := t.TempDir()
	mkdir(t, dir)
	w := newTrustWatch(dir)
	last := watched(t, w, "an empty store")
	unchanged := func(what string) {
		t.Helper()
		if v := watched(t, w, what); v != last {
			t.Fatalf("%s: version %v, want %v still", what, v, last)
		}
	}
	changed := func(what string) {
		t.Helper()
		v := watched(t, w, what)
		if v == last {
			t.Fatalf("%s: version still %v", what, v)
		}
		last = v
		unchanged(what + ", asked again")
	}
	key := filepath.Join(dir, "a.pem")
	write(t, key, "one")
	changed("a key file added")
	trustStore{dir: dir}.keys()
	unchanged("the keys read")

	write(t, key, "two") // the same size, in place
	changed("a key file rewritten in place")
	if err := os.Chmod(key, 0o600); err != nil {
		t.Fatal(err)
	}
	changed("a key file's mode changed")
	saved := filepath.Join(dir, "a.pem.tmp")
	write(t, saved, "six")
	last = watched(t, w, "an editor's temporary file") // the directory changed; not the question here
	if err := os.Rename(saved, key); err != nil {
		t.Fatal(err)
	}
	changed("a key file replaced by a rename over it")

	target := filepath.Join(elsewhere, "linked.pem")
	write(t, target, "one")
	if err := os.Symlink(target, filepath.Join(dir, "b.pem")); err != nil {
		t.Fatal(err)
	}
	changed("a key file linked from elsewhere")
	write(t, target, "two")
	changed("a linked key file's target rewritten")

	other := filepath.Join(elsewhere, "hard.pem")
	write(t, other, "one")
	if err := os.Link(other, filepath.Join(dir, "c.pem")); err != nil {
		t.Fatal(err)
	}
	changed("a key file hard-linked in")
	write(t, other, "two")
	changed("a hard-linked key file written through its other name")

	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	changed("a key file removed")

	moved := dir + ".old"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.version(); ok {
		t.Fatal("the store moved away: still kept")
	}
	mkdir(t, dir)
	changed("a new store in its place")

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(moved, dir); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.version(); ok {
		t.Fatal("a store that is a symbolic link, which could be pointed elsewhere unseen: kept")
	}
	if v, ok := newTrustWatch("").version(); !ok || v != (vapi.KeptVersion{}) {
		t.Fatalf("no data directory: %v %v, want the one version there is", v, ok)
	}
}

func watched(t *testing.T, w *trustWatch, what string) vapi.KeptVersion {
	t.Helper()
	v, ok := w.version()
	if !ok {
		t.Fatalf("%s: the store is not watched", what)
	}
	return v
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}
