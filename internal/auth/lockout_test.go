package auth

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/wcpd/wcpd/internal/clock"
)

func lockoutDirectory(t *testing.T) (*Directory, *clock.Fake, *bytes.Buffer) {
	t.Helper()
	d, _, err := Open(t.TempDir(), "Admin-pw-1!")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(f *File) error { f.AddUser("devops", "Devops-pw-1!", ""); return nil }); err != nil {
		t.Fatal(err)
	}
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var log bytes.Buffer
	d.SetLockout(DefaultLockout, c, slog.New(slog.NewTextHandler(&log, nil)))
	return d, c, &log
}

// TestLockoutAfterFiveFailures: 5 failed logins within 180 s lock the user for 300 s, the right
// password included, and say so in the log; the administrator too.
func TestLockoutAfterFiveFailures(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"devops@vsphere.local", "administrator@vsphere.local"} {
		d, c, log := lockoutDirectory(t)
		good := map[string]string{"devops@vsphere.local": "Devops-pw-1!", "administrator@vsphere.local": "Admin-pw-1!"}[user]
		for i := 0; i < 5; i++ {
			if _, err := d.Login(user, "wrong"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%s failure %d: %v", user, i+1, err)
			}
			c.Advance(30 * time.Second)
		}
		if _, err := d.Login(user, good); !errors.Is(err, ErrLocked) {
			t.Fatalf("%s after 5 failures with the right password: %v, want ErrLocked", user, err)
		}
		if !strings.Contains(log.String(), "user locked out") || !strings.Contains(log.String(), user) {
			t.Errorf("no log line says %s was locked:\n%s", user, log)
		}
		c.Advance(301 * time.Second)
		if _, err := d.Login(user, good); err != nil {
			t.Fatalf("%s after the lockout ended: %v", user, err)
		}
	}
}

// TestFailuresOutsideTheWindowDoNotLock: failures spread over more than 180 s, or interrupted by a
// success, never add up to a lockout.
func TestFailuresOutsideTheWindowDoNotLock(t *testing.T) {
	t.Parallel()
	d, c, _ := lockoutDirectory(t)
	for i := 0; i < 10; i++ {
		_, _ = d.Login("devops", "wrong")
		c.Advance(50 * time.Second) // 4 failures at most within any 180 s
	}
	if _, err := d.Login("devops", "Devops-pw-1!"); err != nil {
		t.Fatalf("spread failures locked the user: %v", err)
	}
}

// TestASuccessClearsTheFailures: failed logins before a successful one do not count toward a
// lockout after it; nor does a success by another user clear them.
func TestASuccessClearsTheFailures(t *testing.T) {
	t.Parallel()
	d, c, _ := lockoutDirectory(t)
	fail := func(user string, times int) {
		for range times {
			if _, err := d.Login(user, "wrong"); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("%s with a wrong password: %v", user, err)
			}
			c.Advance(time.Second)
		}
	}
	for round := range 2 {
		fail("devops", 4)
		if _, err := d.Login("devops", "Devops-pw-1!"); err != nil {
			t.Fatalf("round %d: the right password after 4 failures: %v", round, err)
		}
	}
	fail("devops", 4)
	if _, err := d.Login("administrator", "Admin-pw-1!"); err != nil {
		t.Fatal(err)
	}
	fail("devops", 1) // the fifth since devops's last success
	if _, locked := d.LockedUntil("devops"); !locked {
		t.Fatal("5 failures since the last success did not lock the user")
	}
}

// TestFailedLoginsCostTheSameForUnknownUsers: a failed login does the same bcrypt work whether the
// user exists or not (it used to answer an unknown user at once, telling who exists). The work is
// counted, not timed: on a loaded machine the time of one bcrypt check varies more than twofold.
func TestFailedLoginsCostTheSameForUnknownUsers(t *testing.T) {
	t.Parallel()
	d, _, _ := lockoutDirectory(t)
	d.SetLockout(LockoutPolicy{}, clock.Real{}, nil) // no lockout in the way
	var compared [][]byte
	d.compareHash = func(hash, password []byte) error {
		compared = append(compared, hash)
		return bcrypt.CompareHashAndPassword(hash, password)
	}
	costs := map[string]int{}
	for _, user := range []string{"devops", "nobody-here", "not a valid name!"} {
		compared = nil
		if _, err := d.Login(user, "wrong-password"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("%s with a wrong password: %v, want ErrBadCredentials", user, err)
		}
		if len(compared) != 1 {
			t.Fatalf("a failed login as %q made %d bcrypt comparisons, want 1", user, len(compared))
		}
		cost, err := bcrypt.Cost(compared[0])
		if err != nil {
			t.Fatalf("%q was compared with %q: %v", user, compared[0], err)
		}
		costs[user] = cost
	}
	if costs["nobody-here"] != costs["devops"] || costs["not a valid name!"] != costs["devops"] {
		t.Fatalf("bcrypt cost of a failed login by user: %v, want the same for all", costs)
	}
}

// TestReloadOfAnUnchangedFileWaitsForNoLogin: the periodic check of an unchanged file does not take
// the directory's write lock, so it neither waits for a login in progress nor makes new ones wait
// while it reads the file.
func TestReloadOfAnUnchangedFileWaitsForNoLogin(t *testing.T) {
	t.Parallel()
	d, _, err := Open(t.TempDir(), "Admin-pw-1!")
	if err != nil {
		t.Fatal(err)
	}
	d.mu.RLock() // a login reading the users
	defer d.mu.RUnlock()
	done := make(chan error, 1)
	go func() {
		changed, err := d.Reload()
		if changed {
			err = errors.New("reported a change")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a bound on failure only: a reload that waits never ends
		t.Fatal("the reload of an unchanged file waited for a login in progress")
	}
}

// TestReloadAdoptsAnotherWritersChange: a change written with EditFile (as `wcpd user add` does) is
// taken up by a directory that has the file open, with the new password hashed.
func TestReloadAdoptsAnotherWritersChange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, _, err := Open(dir, "Admin-pw-1!")
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := d.Reload(); changed || err != nil {
		t.Fatalf("reload of an unchanged file: %v %v", changed, err)
	}
	if err := EditFile(dir, func(f *File) error { f.AddUser("late", "Late-pw-1!", "ReadOnly", "latecomers"); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Authenticate("late", "Late-pw-1!"); ok {
		t.Fatal("the new user logged in before the reload")
	}
	if changed, err := d.Reload(); !changed || err != nil {
		t.Fatalf("reload after EditFile: %v %v", changed, err)
	}
	p, ok := d.Authenticate("late@vsphere.local", "Late-pw-1!")
	if !ok || !p.InGroup("latecomers") || !d.HasPrivilege(p, SystemRead) {
		t.Fatalf("after the reload: %+v %v", p, ok)
	}
	if err := EditFile(dir, func(f *File) error { return f.RemoveUser("administrator") }); err == nil {
		t.Fatal("the built-in administrator was removed")
	}
	if err := EditFile(dir, func(f *File) error { f.AddUser("bad name", "x", ""); return nil }); err == nil {
		t.Fatal("an invalid user name was written")
	}
	if _, ok := d.Authenticate("late", "Late-pw-1!"); !ok {
		t.Fatal("a refused edit changed something")
	}
}
