package auth

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestFirstStartGeneratesAdminPasswordStoredHashed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, res, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.GeneratedPassword) < 16 {
		t.Fatalf("generated password %q", res.GeneratedPassword)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.Contains(string(raw), res.GeneratedPassword) || !strings.Contains(string(raw), "password_hash: $2") {
		t.Fatalf("password not stored hashed:\n%s", raw)
	}
	for _, name := range []string{"administrator@vsphere.local", `VSPHERE.LOCAL\Administrator`, "administrator"} {
		p, ok := d.Authenticate(name, res.GeneratedPassword)
		if !ok || p.String() != "administrator@vsphere.local" {
			t.Fatalf("login as %s: %v %v", name, p, ok)
		}
	}
	if _, ok := d.Authenticate("administrator@vsphere.local", "wrong"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, ok := d.Authenticate("administrator@other.local", res.GeneratedPassword); ok {
		t.Fatal("other domain accepted")
	}
	// Second start: nothing generated, same password works.
	d2, res2, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if res2.GeneratedPassword != "" {
		t.Fatal("password generated twice")
	}
	if _, ok := d2.Authenticate("administrator@vsphere.local", res.GeneratedPassword); !ok {
		t.Fatal("stored password lost")
	}
	// The environment replaces it.
	d3, res3, err := Open(dir, "from-env")
	if err != nil {
		t.Fatal(err)
	}
	if res3.GeneratedPassword != "" || !strings.Contains(res3.PasswordSource, "WCPD_ADMIN_PASSWORD") {
		t.Fatalf("env password result %+v", res3)
	}
	if _, ok := d3.Authenticate("administrator@vsphere.local", "from-env"); !ok {
		t.Fatal("env password refused")
	}
	if _, ok := d3.Authenticate("administrator@vsphere.local", res.GeneratedPassword); ok {
		t.Fatal("old password still accepted")
	}
}

func TestPermissionsThroughNestedGroups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := `users:
- name: alice
  password: alice-pw
- name: bob@vsphere.local
  password: bob-pw
- name: carol
  password: carol-pw
groups:
- name: DevOps
  members: [alice, group:Platform]
- name: Platform
  members: [bob]
roles:
- name: NamespaceOperator
  privileges: [System.Read, Namespaces.Manage]
permissions:
- group: DevOps
  role: NamespaceOperator
- user: carol
  role: ReadOnly
`
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	d, _, err := Open(dir, "admin-pw")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if strings.Contains(string(raw), "bob-pw") {
		t.Fatal("plain-text password kept after start")
	}
	bob, ok := d.Authenticate("bob", "bob-pw")
	if !ok {
		t.Fatal("bob cannot log in")
	}
	if !bob.InGroup("devops") || !bob.InGroup("Platform") {
		t.Fatalf("bob's groups %v", bob.Groups)
	}
	carol, _ := d.Authenticate("carol", "carol-pw")
	admin, _ := d.Authenticate("administrator", "admin-pw")
	checks := []struct {
		who  Principal
		priv Privilege
		want bool
	}{
		{bob, NamespacesManage, true},
		{bob, NamespacesUpgrade, false},
		{carol, SystemRead, true},
		{carol, NamespacesManage, false},
		{admin, SupervisorServicesManage, true},
	}
	for _, c := range checks {
		if got := d.HasPrivilege(c.who, c.priv); got != c.want {
			t.Errorf("%s has %s: %v, want %v", c.who, c.priv, got, c.want)
		}
	}
	if !d.UserExists("ALICE@vsphere.local") || d.UserExists("dave") || !d.GroupExists("devops") || d.GroupExists("nobody") {
		t.Fatal("existence checks")
	}
}

func TestBadIdentityFileNamesTheField(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"users:\n- name: a\n  password: x\npermissions:\n- user: a\n  role: Wizard\n":               "permissions[0].role",
		"users:\n- name: a\n  password: x\ngroups:\n- name: g\n  members: [zed]\n":                  "groups[0].members[0]",
		"users:\n- name: a\n  password: x\nroles:\n- name: R\n  privileges: [Magic.Wand]\n":         "roles[0].privileges[0]",
		"users:\n- name: a@other.local\n  password: x\n":                                            "users[0].name",
		"users:\n- name: a\n  pasword: x\n":                                                         "pasword",
		"users:\n- name: a\n  password: x\npermissions:\n- user: a\n  group: g\n  role: ReadOnly\n": "permissions[0]",
	}
	for content, want := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := Open(dir, "pw")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want mention of %s", content, err, want)
		}
	}
}

func TestUpdateIsAllOrNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, _, err := Open(dir, "pw")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, FileName))
	changes := d.Changes()
	err = d.Update(func(f *File) error {
		f.Users = append(f.Users, UserEntry{Name: "eve", Password: "x"})
		f.Permissions = append(f.Permissions, PermissionEntry{User: "eve", Role: "Nope"})
		return nil
	})
	if err == nil {
		t.Fatal("invalid update accepted")
	}
	after, _ := os.ReadFile(filepath.Join(dir, FileName))
	if string(before) != string(after) || d.UserExists("eve") || d.Changes() != changes {
		t.Fatal("failed update changed something")
	}
	if err := d.Update(func(f *File) error {
		f.Users = append(f.Users, UserEntry{Name: "eve", Password: "eve-pw"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Authenticate("eve", "eve-pw"); !ok {
		t.Fatal("added user cannot log in")
	}
	if d.Changes() == changes {
		t.Fatal("an update left Changes as it was: answers kept per caller would not follow it")
	}
}

func TestAddUserJoinsGroupsAndGrantsTheRole(t *testing.T) {
	t.Parallel()
	d, _, err := Open(t.TempDir(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(f *File) error {
		f.AddUser("dana", "dana-pw", RoleReadOnly, "administrators", "devops")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	dana, ok := d.Authenticate("dana", "dana-pw")
	if !ok || !dana.InGroup("devops") || !dana.InGroup("administrators") {
		t.Fatalf("dana %+v, logged in %v", dana, ok)
	}
	if err := d.Update(func(f *File) error { f.AddUser("erin", "erin-pw", RoleReadOnly); return nil }); err != nil {
		t.Fatal(err)
	}
	erin, _ := d.Authenticate("erin", "erin-pw")
	if !d.HasPrivilege(erin, SystemRead) || d.HasPrivilege(erin, NamespacesManage) || len(erin.Groups) != 0 {
		t.Fatalf("erin %+v", erin)
	}
}

// TestGroupsFollowAnEditAfterTheyWereAsked: a user's groups are remembered between logins, and
// an edit of the directory makes the next login see the new ones.
func TestGroupsFollowAnEditAfterTheyWereAsked(t *testing.T) {
	t.Parallel()
	d, _, err := Open(t.TempDir(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(f *File) error { f.AddUser("dana", "dana-pw", RoleReadOnly, "devops"); return nil }); err != nil {
		t.Fatal(err)
	}
	before, ok := d.Authenticate("dana", "dana-pw")
	if !ok || !before.InGroup("devops") || before.InGroup("auditors") {
		t.Fatalf("dana before the edit: %+v", before)
	}
	if err := d.Update(func(f *File) error { f.AddUser("erin", "erin-pw", RoleReadOnly, "auditors"); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := d.Update(func(f *File) error {
		for i := range f.Groups {
			if f.Groups[i].Name == "auditors" {
				f.Groups[i].Members = append(f.Groups[i].Members, "dana")
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	after, ok := d.Authenticate("dana", "dana-pw")
	if !ok || !after.InGroup("devops") || !after.InGroup("auditors") {
		t.Fatalf("dana after joining auditors: %+v", after)
	}
	if !slices.Equal(before.Groups, []string{"devops"}) {
		t.Fatalf("the groups handed out before the edit changed: %v", before.Groups)
	}
}

// TestAPasswordCheckedBeforeAChangeIsNotRememberedAfterIt: a login whose bcrypt check of the old
// password began before the password changed, and that remembers the password after the change,
// does not let the old password in again.
func TestAPasswordCheckedBeforeAChangeIsNotRememberedAfterIt(t *testing.T) {
	t.Parallel()
	d, _, _ := lockoutDirectory(t) // devops's password is Devops-pw-1!
	d.mu.RLock()
	oldHash := d.users["devops"].PasswordHash
	d.mu.RUnlock()
	if err := d.Update(func(f *File) error {
		for i := range f.Users {
			if f.Users[i].Name == "devops" {
				f.Users[i].Password, f.Users[i].PasswordHash = "New-pw-1!", ""
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The login that checked the old password against the old hash finishes now.
	d.remember("devops", verifiedPassword{hash: oldHash, digest: d.digest("devops", "Devops-pw-1!")})
	if _, err := d.Login("devops", "Devops-pw-1!"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("the old password after the change: %v, want ErrBadCredentials", err)
	}
	if _, err := d.Login("devops", "New-pw-1!"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

// TestLoginsAtOnceCheckThePasswordOnce: clients logging in at once with a password not yet
// remembered (every client of a restarted server) wait for one bcrypt check of it rather than
// each running their own; with a wrong password each still fails and counts as a failure.
func TestLoginsAtOnceCheckThePasswordOnce(t *testing.T) {
	t.Parallel()
	d, _, _ := lockoutDirectory(t)
	const clients = 8
	for _, tc := range []struct {
		password string
		want     error
	}{{"Devops-pw-1!", nil}, {"wrong", ErrBadCredentials}} {
		// Each check waits until every client has found the password not remembered: a client
		// that then runs a check of its own is one that did not wait for the first.
		var unremembered sync.WaitGroup
		unremembered.Add(clients)
		var checks atomic.Int32
		d.unremembered = unremembered.Done
		d.compareHash = func(hash, password []byte) error {
			checks.Add(1)
			unremembered.Wait()
			return bcrypt.CompareHashAndPassword(hash, password)
		}
		errs := make(chan error, clients)
		for range clients {
			go func() {
				_, err := d.Login("devops", tc.password)
				errs <- err
			}()
		}
		for range clients {
			if err := <-errs; !errors.Is(err, tc.want) && err != tc.want {
				t.Errorf("password %q: a login answered %v, want %v", tc.password, err, tc.want)
			}
		}
		if n := checks.Load(); n != 1 {
			t.Errorf("password %q: %d logins at once ran bcrypt %d times, want once", tc.password, clients, n)
		}
	}
	if _, locked := d.LockedUntil("devops"); !locked {
		t.Errorf("%d failed logins at once did not lock the user (5 do)", clients)
	}
}

// TestLoginDuringWhichTheUserGoesFails: a login whose password check is under way when the user is
// removed, or given another password, does not open a session for the user as it was.
func TestLoginDuringWhichTheUserGoesFails(t *testing.T) {
	t.Parallel()
	for name, change := range map[string]func(f *File) error{
		"removed": func(f *File) error { return f.RemoveUser("devops") },
		"new password": func(f *File) error {
			for i := range f.Users {
				if f.Users[i].Name == "devops" {
					f.Users[i].Password, f.Users[i].PasswordHash = "Other-pw-1!", ""
				}
			}
			return nil
		},
	} {
		d, _, _ := lockoutDirectory(t)
		d.compareHash = func(hash, password []byte) error {
			if err := d.Update(change); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			return bcrypt.CompareHashAndPassword(hash, password)
		}
		if p, err := d.Login("devops", "Devops-pw-1!"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("user %s during the check: %+v, %v; want ErrBadCredentials", name, p, err)
		}
	}
}
