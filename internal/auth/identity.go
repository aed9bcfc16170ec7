// Package auth owns wcpd's identity source (the users and groups of vsphere.local, kept in a YAML file in
// the data dir), its roles built from vCenter privilege names, and the global permissions that grant
// those roles to users and groups.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"
	"sigs.k8s.io/yaml"
)

// Domain is the identity source wcpd serves.
const Domain = "vsphere.local"

// AdminName is the built-in administrator's user name within Domain.
const AdminName = "administrator"

// AdminsGroup is the group whose members hold the Admin role, as in vCenter.
const AdminsGroup = "administrators"

// FileName is the identity file inside the data dir.
const FileName = "identity.yaml"

// ErrUnknownPrincipal is returned for a user or group the identity source does not hold.
var ErrUnknownPrincipal = errors.New("unknown principal")

// Principal is an authenticated user with the groups it belongs to.
type Principal struct {
	Name   string   // lower-case name without domain, e.g. "administrator"
	Domain string   // e.g. "vsphere.local"
	Groups []string // group names within Domain, transitively resolved
}

// String gives the user as user@domain.
func (p Principal) String() string { return p.Name + "@" + p.Domain }

// SessionUser is how vCenter shows a session's user: DOMAIN\name.
func (p Principal) SessionUser() string { return strings.ToUpper(p.Domain) + `\` + p.Name }

// InGroup reports whether the principal belongs to group (a name within its domain).
func (p Principal) InGroup(group string) bool {
	group = strings.ToLower(group)
	for _, g := range p.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// File is the on-disk shape of the identity source.
type File struct {
	Users       []UserEntry       `json:"users"`
	Groups      []GroupEntry      `json:"groups,omitempty"`
	Roles       []RoleEntry       `json:"roles,omitempty"`
	Permissions []PermissionEntry `json:"permissions,omitempty"`
}

// UserEntry is one user. Password is accepted for hand-written files and replaced by PasswordHash
// when wcpd next writes the file.
type UserEntry struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash,omitempty"`
	Password     string `json:"password,omitempty"`
	Description  string `json:"description,omitempty"`
}

// GroupEntry is one group; members are user names or other groups written "group:NAME".
type GroupEntry struct {
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
}

// RoleEntry is a custom role in addition to Admin, ReadOnly and NoAccess.
type RoleEntry struct {
	Name       string      `json:"name"`
	Privileges []Privilege `json:"privileges"`
}

// PermissionEntry grants a role globally to a user or a group (exactly one of the two).
type PermissionEntry struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Role  string `json:"role"`
}

// verifiedPassword is a password bcrypt accepted: its salted digest, and the hash it was checked
// against. It stands only for that hash: a login whose check began before the password changed
// may remember its password after the change, and that must not let the old password in.
type verifiedPassword struct {
	hash   string
	digest [32]byte
}

// Directory is the loaded identity source. It is safe for concurrent use.
type Directory struct {
	path string

	mu       sync.RWMutex
	file     File
	users    map[string]*UserEntry
	groups   map[string]*GroupEntry
	roles    map[string]map[Privilege]bool
	verified map[string]verifiedPassword // user -> the last password that passed bcrypt
	// memberOf memoises groupsOf per user until the directory changes (adopt): every login and
	// every check of a caller asks it. memberMu guards it, as readers hold d.mu only for reading.
	memberMu sync.Mutex
	memberOf map[string][]string
	salt     [16]byte
	// lock counts failed logins (SetLockout); nil: no lockout.
	lock *lockouts
	// raw is the file as last read or written, so Reload can tell a change made by someone else.
	raw []byte
	// changes counts the users, groups, roles and permissions adopted since Open (Changes).
	changes atomic.Uint64
	// checks runs one bcrypt check at a time per user, hash and password: clients logging in at
	// once with a password not yet remembered (every client of a restarted server) wait for the
	// first check instead of each paying bcrypt's cost.
	checks singleflight.Group
	// Tests' hooks: compareHash replaces bcrypt's comparison, unremembered is told of every login
	// whose password is not remembered, before its check. Nil in wcpd.
	compareHash  func(hash, password []byte) error
	unremembered func()
}

// OpenResult tells the caller where the administrator password came from.
type OpenResult struct {
	// GeneratedPassword is set only when this start created the administrator password; print it once.
	GeneratedPassword string
	// PasswordSource describes where the administrator password comes from, for the start-up banner.
	PasswordSource string
}

// Open loads dataDir/identity.yaml, creating it on first start. adminPassword (from
// WCPD_ADMIN_PASSWORD) replaces the stored administrator password when set.
func Open(dataDir, adminPassword string) (*Directory, OpenResult, error) {
	d := &Directory{path: filepath.Join(dataDir, FileName), verified: map[string]verifiedPassword{}}
	if _, err := rand.Read(d.salt[:]); err != nil {
		return nil, OpenResult{}, err
	}
	var res OpenResult
	raw, err := os.ReadFile(d.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.file = File{Groups: []GroupEntry{{Name: AdminsGroup, Members: []string{AdminName}}}}
	case err != nil:
		return nil, res, err
	default:
		if err := yaml.UnmarshalStrict(raw, &d.file); err != nil {
			return nil, res, fmt.Errorf("%s: %w", d.path, err)
		}
		d.raw = raw
	}
	dirty := errors.Is(err, os.ErrNotExist)
	if d.findUser(AdminName) < 0 {
		d.file.Users = append(d.file.Users, UserEntry{Name: AdminName, Description: "built-in administrator"})
		dirty = true
	}
	admin := &d.file.Users[d.findUser(AdminName)]
	switch {
	case adminPassword != "":
		if admin.PasswordHash == "" || bcrypt.CompareHashAndPassword([]byte(admin.PasswordHash), []byte(adminPassword)) != nil {
			admin.PasswordHash, admin.Password = "", adminPassword
			dirty = true
		}
		res.PasswordSource = "from WCPD_ADMIN_PASSWORD"
	case admin.PasswordHash == "" && admin.Password == "":
		res.GeneratedPassword = generatePassword()
		admin.Password = res.GeneratedPassword
		res.PasswordSource = "generated on first start (shown once)"
		dirty = true
	default:
		res.PasswordSource = "stored hashed in " + d.path
	}
	for i := range d.file.Users {
		u := &d.file.Users[i]
		if u.Password != "" {
			h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
			if err != nil {
				return nil, res, err
			}
			u.PasswordHash, u.Password = string(h), ""
			dirty = true
		}
	}
	if err := d.index(); err != nil {
		return nil, res, fmt.Errorf("%s: %w", d.path, err)
	}
	if dirty {
		if err := d.save(); err != nil {
			return nil, res, err
		}
	}
	return d, res, nil
}

func generatePassword() string {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (d *Directory) findUser(name string) int {
	for i, u := range d.file.Users {
		if strings.EqualFold(u.Name, name) {
			return i
		}
	}
	return -1
}

// index validates the file and builds the lookup maps; callers hold d.mu or own d exclusively.
func (d *Directory) index() error {
	d.users = map[string]*UserEntry{}
	d.groups = map[string]*GroupEntry{}
	d.roles = map[string]map[Privilege]bool{}
	for name, privs := range builtinRoles() {
		d.roles[name] = set(privs)
	}
	for i := range d.file.Users {
		u := &d.file.Users[i]
		n, err := localName(u.Name)
		if err != nil {
			return fmt.Errorf("users[%d].name: %w", i, err)
		}
		if _, dup := d.users[n]; dup {
			return fmt.Errorf("users[%d].name: duplicate user %q", i, u.Name)
		}
		u.Name = n
		d.users[n] = u
	}
	for i := range d.file.Groups {
		g := &d.file.Groups[i]
		n, err := localName(g.Name)
		if err != nil {
			return fmt.Errorf("groups[%d].name: %w", i, err)
		}
		if _, dup := d.groups[n]; dup {
			return fmt.Errorf("groups[%d].name: duplicate group %q", i, g.Name)
		}
		g.Name = n
		d.groups[n] = g
	}
	for i, g := range d.file.Groups {
		for j, m := range g.Members {
			if grp, ok := strings.CutPrefix(m, "group:"); ok {
				if _, found := d.groups[strings.ToLower(grp)]; !found {
					return fmt.Errorf("groups[%d].members[%d]: unknown group %q", i, j, grp)
				}
			} else if _, found := d.users[strings.ToLower(m)]; !found {
				return fmt.Errorf("groups[%d].members[%d]: unknown user %q", i, j, m)
			}
		}
	}
	for i, r := range d.file.Roles {
		if _, dup := d.roles[r.Name]; dup || r.Name == "" {
			return fmt.Errorf("roles[%d].name: %q is empty or already defined", i, r.Name)
		}
		for j, p := range r.Privileges {
			if !KnownPrivilege(p) {
				return fmt.Errorf("roles[%d].privileges[%d]: unknown privilege %q", i, j, p)
			}
		}
		d.roles[r.Name] = set(r.Privileges)
	}
	for i, p := range d.file.Permissions {
		if (p.User == "") == (p.Group == "") {
			return fmt.Errorf("permissions[%d]: exactly one of user and group must be set", i)
		}
		if _, ok := d.roles[p.Role]; !ok {
			return fmt.Errorf("permissions[%d].role: unknown role %q", i, p.Role)
		}
		if p.User != "" {
			if _, ok := d.users[strings.ToLower(p.User)]; !ok {
				return fmt.Errorf("permissions[%d].user: unknown user %q", i, p.User)
			}
		} else if _, ok := d.groups[strings.ToLower(p.Group)]; !ok {
			return fmt.Errorf("permissions[%d].group: unknown group %q", i, p.Group)
		}
	}
	return nil
}

func set(privs []Privilege) map[Privilege]bool {
	m := make(map[Privilege]bool, len(privs))
	for _, p := range privs {
		m[p] = true
	}
	return m
}

// localName strips an @vsphere.local or VSPHERE.LOCAL\ qualifier and lower-cases the name.
func localName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if dom, user, ok := strings.Cut(n, `\`); ok {
		if dom != Domain {
			return "", fmt.Errorf("domain %q is not %s", dom, Domain)
		}
		n = user
	}
	if user, dom, ok := strings.Cut(n, "@"); ok {
		if dom != Domain {
			return "", fmt.Errorf("domain %q is not %s", dom, Domain)
		}
		n = user
	}
	if n == "" || strings.ContainsAny(n, " @\\:/") {
		return "", fmt.Errorf("invalid name %q", name)
	}
	return n, nil
}

func (d *Directory) save() error {
	out, err := yaml.Marshal(d.file)
	if err != nil {
		return err
	}
	header := []byte("# wcpd identity source for " + Domain + ": users, groups, roles and global permissions.\n" +
		"# A user may be given `password:` in plain text; wcpd replaces it with `password_hash:` on start.\n")
	data := append(header, out...)
	tmp := d.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, d.path); err != nil {
		return err
	}
	d.raw = data
	return nil
}

// Authenticate checks a user name (any of name, name@vsphere.local, VSPHERE.LOCAL\name) and password.
func (d *Directory) Authenticate(user, password string) (Principal, bool) {
	p, err := d.Login(user, password)
	return p, err == nil
}

// Login is Authenticate saying why it failed: ErrBadCredentials, or ErrLocked while the user is
// locked out (SetLockout). A failed login costs one bcrypt comparison whether the user exists or
// not, so its time does not tell.
func (d *Directory) Login(user, password string) (Principal, error) {
	name, err := localName(user)
	if err != nil {
		_ = d.compare(dummyHash(), []byte(password))
		return Principal{}, ErrBadCredentials
	}
	if d.lock != nil {
		if _, locked := d.lock.lockedUntil(name); locked {
			return Principal{}, ErrLocked
		}
	}
	d.mu.RLock()
	u, ok := d.users[name]
	var hash string
	var p Principal
	if ok {
		hash = u.PasswordHash
		p = d.principalLocked(name) // under this lock rather than another
	}
	prev, memo := d.verified[name]
	d.mu.RUnlock()
	if !ok || hash == "" {
		_ = d.compare(dummyHash(), []byte(password))
		return Principal{}, ErrBadCredentials
	}
	// bcrypt is deliberately slow; remember the last password that passed so repeated logins stay cheap.
	v := verifiedPassword{hash: hash, digest: d.digest(name, password)}
	if !memo || !prev.is(v) {
		if d.unremembered != nil {
			d.unremembered()
		}
		_, err, _ := d.checks.Do(name+"\x00"+hash+"\x00"+string(v.digest[:]), func() (any, error) {
			d.mu.RLock()
			prev, memo := d.verified[name]
			d.mu.RUnlock()
			if memo && prev.is(v) {
				return nil, nil // remembered by a check that ended after this login began
			}
			if err := d.compare([]byte(hash), []byte(password)); err != nil {
				return nil, err
			}
			d.remember(name, v)
			return nil, nil
		})
		if err != nil {
			if d.lock != nil {
				d.lock.failed(name)
			}
			return Principal{}, ErrBadCredentials
		}
		// bcrypt took a while: the user may have gone, or had the password or groups changed,
		// meanwhile. The login stands only for the user as the directory has it now.
		d.mu.RLock()
		u, ok := d.users[name]
		current := ok && u.PasswordHash == hash
		if current {
			p = d.principalLocked(name)
		}
		d.mu.RUnlock()
		if !current {
			return Principal{}, ErrBadCredentials
		}
	}
	if d.lock != nil {
		d.lock.succeeded(name)
	}
	return p, nil
}

// is reports whether v is the same password checked against the same hash.
func (p verifiedPassword) is(v verifiedPassword) bool {
	return p.hash == v.hash && subtle.ConstantTimeCompare(p.digest[:], v.digest[:]) == 1
}

// compare is bcrypt's comparison of a password with a hash (or the tests' stand-in).
func (d *Directory) compare(hash, password []byte) error {
	if d.compareHash != nil {
		return d.compareHash(hash, password)
	}
	return bcrypt.CompareHashAndPassword(hash, password)
}

// remember keeps the password bcrypt just accepted for name.
func (d *Directory) remember(name string, v verifiedPassword) {
	d.mu.Lock()
	d.verified[name] = v
	d.mu.Unlock()
}

func (d *Directory) digest(name, password string) [32]byte {
	// Hashed from the stack: a login's name and password fit, and a hash.Hash and its sum would
	// be allocated at every login.
	var buf [256]byte
	in := append(append(append(append(buf[:0], d.salt[:]...), name...), 0), password...)
	return sha256.Sum256(in)
}

// Principal resolves a user by name with its groups, transitively.
func (d *Directory) Principal(user string) (Principal, error) {
	name, err := localName(user)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnknownPrincipal, err)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if _, ok := d.users[name]; !ok {
		return Principal{}, fmt.Errorf("%w: user %q", ErrUnknownPrincipal, user)
	}
	return d.principalLocked(name), nil
}

// principalLocked is the principal of the known local user name; callers hold d.mu for reading.
func (d *Directory) principalLocked(name string) Principal {
	return Principal{Name: name, Domain: Domain, Groups: d.memoisedGroupsOf(name)}
}

// memoisedGroupsOf is groupsOf, computed once per user and directory; callers hold d.mu for
// reading. The slice is shared and clipped: an append copies it, and nobody may change it in place.
func (d *Directory) memoisedGroupsOf(name string) []string {
	d.memberMu.Lock()
	defer d.memberMu.Unlock()
	if gs, ok := d.memberOf[name]; ok {
		return gs
	}
	gs := slices.Clip(d.groupsOf(name))
	if d.memberOf == nil {
		d.memberOf = map[string][]string{}
	}
	d.memberOf[name] = gs
	return gs
}

// groupsOf returns the groups holding member, directly or through nested groups, sorted.
func (d *Directory) groupsOf(user string) []string {
	found := map[string]bool{}
	var visit func(member string)
	visit = func(member string) {
		for _, g := range d.file.Groups {
			if found[g.Name] {
				continue
			}
			for _, m := range g.Members {
				if strings.EqualFold(m, member) {
					found[g.Name] = true
					visit("group:" + g.Name)
					break
				}
			}
		}
	}
	visit(user)
	out := make([]string, 0, len(found))
	for g := range found {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// UserExists reports whether the identity source holds the user (name in any accepted form).
func (d *Directory) UserExists(name string) bool {
	n, err := localName(name)
	if err != nil {
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.users[n]
	return ok
}

// GroupExists reports whether the identity source holds the group.
func (d *Directory) GroupExists(name string) bool {
	n, err := localName(name)
	if err != nil {
		return false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	_, ok := d.groups[n]
	return ok
}

// HasPrivilege reports whether p holds priv through a global permission on p or one of its groups.
// The built-in administrator and members of the administrators group hold every privilege.
func (d *Directory) HasPrivilege(p Principal, priv Privilege) bool {
	if priv == PrivilegeNone {
		return true
	}
	if p.Name == AdminName || p.InGroup(AdminsGroup) {
		return true
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, perm := range d.file.Permissions {
		applies := (perm.User != "" && strings.EqualFold(perm.User, p.Name)) ||
			(perm.Group != "" && p.InGroup(perm.Group))
		if applies && d.roles[perm.Role][priv] {
			return true
		}
	}
	return false
}

// AddUser adds a user with a password, makes it a member of groups (creating those that do not
// exist), and grants it role globally unless role is "". Validation happens when the file is applied.
func (f *File) AddUser(name, password, role string, groups ...string) {
	f.Users = append(f.Users, UserEntry{Name: name, Password: password})
	for _, g := range groups {
		found := false
		for i := range f.Groups {
			if strings.EqualFold(f.Groups[i].Name, g) {
				f.Groups[i].Members = append(f.Groups[i].Members, name)
				found = true
			}
		}
		if !found {
			f.Groups = append(f.Groups, GroupEntry{Name: g, Members: []string{name}})
		}
	}
	if role != "" {
		f.Permissions = append(f.Permissions, PermissionEntry{User: name, Role: role})
	}
}

// Update applies fn to a copy of the file, validates the result and writes it; on any error nothing
// changes. Tests and the admin tooling use it to add users, groups and permissions.
func (d *Directory) Update(fn func(f *File) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := &Directory{path: d.path, file: cloneFile(d.file)}
	if err := fn(&next.file); err != nil {
		return err
	}
	if err := next.commit(); err != nil {
		return err
	}
	d.adopt(next)
	return nil
}

// commit hashes the passwords given in plain text, validates the file and writes it.
func (next *Directory) commit() error {
	for i := range next.file.Users {
		u := &next.file.Users[i]
		if u.Password != "" {
			h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			u.PasswordHash, u.Password = string(h), ""
		}
	}
	if err := next.index(); err != nil {
		return err
	}
	return next.save()
}

// adopt takes the file and indexes of next; callers hold d.mu.
func (d *Directory) adopt(next *Directory) {
	d.file, d.users, d.groups, d.roles, d.raw = next.file, next.users, next.groups, next.roles, next.raw
	d.verified = map[string]verifiedPassword{}
	d.memberMu.Lock()
	d.memberOf = nil
	d.memberMu.Unlock()
	d.changes.Add(1) // under d.mu: whoever reads the new count reads the new directory
}

// Changes counts the changes made to the directory (by the API, `wcpd user` or a reload of the
// file): two equal readings mean the users, groups, roles and permissions did not change in
// between, so what the API derived from them (answers kept per caller) is still current.
func (d *Directory) Changes() uint64 { return d.changes.Load() }

func cloneFile(f File) File {
	out := File{
		Users:       append([]UserEntry(nil), f.Users...),
		Roles:       make([]RoleEntry, len(f.Roles)),
		Permissions: append([]PermissionEntry(nil), f.Permissions...),
	}
	for _, g := range f.Groups {
		out.Groups = append(out.Groups, GroupEntry{Name: g.Name, Members: append([]string(nil), g.Members...)})
	}
	for i, r := range f.Roles {
		out.Roles[i] = RoleEntry{Name: r.Name, Privileges: append([]Privilege(nil), r.Privileges...)}
	}
	return out
}
