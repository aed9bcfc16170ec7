package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// EditFile changes the identity source in dataDir whether or not a server runs on it (`wcpd user`,
// `wcpd group`): fn changes the file, which is validated and written atomically, passwords hashed;
// on any error nothing changes. A running server picks the change up (Watch).
func EditFile(dataDir string, fn func(f *File) error) error {
	path := filepath.Join(dataDir, FileName)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no identity source at %s: start `wcpd serve --data-dir %s` once to create it", path, dataDir)
	}
	if err != nil {
		return err
	}
	next := &Directory{path: path}
	if err := yaml.UnmarshalStrict(raw, &next.file); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := fn(&next.file); err != nil {
		return err
	}
	return next.commit()
}

// ReadFile returns the identity source in dataDir as stored (for `wcpd user ls`).
func ReadFile(dataDir string) (File, error) {
	var f File
	raw, err := os.ReadFile(filepath.Join(dataDir, FileName))
	if err != nil {
		return f, err
	}
	return f, yaml.UnmarshalStrict(raw, &f)
}

// Reload reads the file again if someone else changed it since it was last read or written, and
// adopts it once it validates (hashing passwords given in plain text). It reports whether it
// changed anything; on an error the directory keeps what it had.
func (d *Directory) Reload() (bool, error) {
	// Most checks find the file as it was: they read it without the write lock, which would stop
	// every login and permission check for as long as the read takes (a file read can wait for
	// the disk, or for a core on a loaded machine). d.raw is replaced, never written in place.
	d.mu.RLock()
	known := d.raw
	d.mu.RUnlock()
	raw, err := os.ReadFile(d.path)
	if err != nil {
		return false, err
	}
	if bytes.Equal(raw, known) {
		return false, nil
	}
	// Read again under the write lock: an Update between that read and adopting it would otherwise
	// be overwritten by the older file.
	d.mu.Lock()
	defer d.mu.Unlock()
	raw, err = os.ReadFile(d.path)
	if err != nil {
		return false, err
	}
	if bytes.Equal(raw, d.raw) {
		return false, nil
	}
	next := &Directory{path: d.path, raw: raw}
	if err := yaml.UnmarshalStrict(raw, &next.file); err != nil {
		return false, fmt.Errorf("%s: %w", d.path, err)
	}
	if err := next.commit(); err != nil {
		return false, fmt.Errorf("%s: %w", d.path, err)
	}
	d.adopt(next)
	return true, nil
}

// Watch reloads the file every interval until ctx ends, logging what it adopts or refuses.
func (d *Directory) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		var lastErr string
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			changed, err := d.Reload()
			switch {
			case err != nil && err.Error() != lastErr:
				lastErr = err.Error()
				log.Error("identity source not reloaded; the previous one stays in force", "error", err)
			case changed:
				lastErr = ""
				log.Info("identity source reloaded", "path", d.path)
			}
		}
	}()
}

// RemoveUser takes a user out of the file with its memberships and permissions. The built-in
// administrator cannot be removed.
func (f *File) RemoveUser(name string) error {
	n, err := localName(name)
	if err != nil {
		return err
	}
	if n == AdminName {
		return fmt.Errorf("the built-in %s cannot be removed", AdminName)
	}
	i := slices.IndexFunc(f.Users, func(u UserEntry) bool { return strings.EqualFold(u.Name, n) })
	if i < 0 {
		return fmt.Errorf("no user %q", name)
	}
	f.Users = slices.Delete(f.Users, i, i+1)
	for gi := range f.Groups {
		f.Groups[gi].Members = slices.DeleteFunc(f.Groups[gi].Members, func(m string) bool { return strings.EqualFold(m, n) })
	}
	f.Permissions = slices.DeleteFunc(f.Permissions, func(p PermissionEntry) bool { return strings.EqualFold(p.User, n) })
	return nil
}

// RemoveGroup takes a group out of the file with its memberships and permissions.
func (f *File) RemoveGroup(name string) error {
	n, err := localName(name)
	if err != nil {
		return err
	}
	if n == AdminsGroup {
		return fmt.Errorf("the built-in group %s cannot be removed", AdminsGroup)
	}
	i := slices.IndexFunc(f.Groups, func(g GroupEntry) bool { return strings.EqualFold(g.Name, n) })
	if i < 0 {
		return fmt.Errorf("no group %q", name)
	}
	f.Groups = slices.Delete(f.Groups, i, i+1)
	for gi := range f.Groups {
		f.Groups[gi].Members = slices.DeleteFunc(f.Groups[gi].Members, func(m string) bool { return strings.EqualFold(m, "group:"+n) })
	}
	f.Permissions = slices.DeleteFunc(f.Permissions, func(p PermissionEntry) bool { return strings.EqualFold(p.Group, n) })
	return nil
}

// SetMember adds a user (or "group:NAME") to a group, or removes it.
func (f *File) SetMember(group, member string, in bool) error {
	i := slices.IndexFunc(f.Groups, func(g GroupEntry) bool { return strings.EqualFold(g.Name, group) })
	if i < 0 {
		return fmt.Errorf("no group %q", group)
	}
	has := slices.ContainsFunc(f.Groups[i].Members, func(m string) bool { return strings.EqualFold(m, member) })
	switch {
	case in && !has:
		f.Groups[i].Members = append(f.Groups[i].Members, member)
	case !in && has:
		f.Groups[i].Members = slices.DeleteFunc(f.Groups[i].Members, func(m string) bool { return strings.EqualFold(m, member) })
	case !in:
		return fmt.Errorf("%q is not a member of %q", member, group)
	}
	return nil
}
