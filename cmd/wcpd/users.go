package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/wcpd/wcpd/internal/auth"
	"github.com/wcpd/wcpd/internal/server"
)

const usersUsage = `Usage (on a stopped or running server; a running one picks the change up within seconds):
  wcpd user ls                                   list users, their groups and global roles
  wcpd user add NAME [--role ROLE] [--group G]…  add a user; password from WCPD_PASSWORD or stdin
  wcpd user passwd NAME                          set a user's password (same sources)
  wcpd user rm NAME                              remove a user, its memberships and permissions
  wcpd group ls | add NAME | rm NAME
  wcpd group add-member GROUP USER | rm-member GROUP USER
Every command takes --data-dir (default ./wcpd-data).
`

// runIdentity serves `wcpd user …` and `wcpd group …`.
func runIdentity(kind string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet(kind+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", server.DefaultDataDir, "wcpd's data directory")
	role := fs.String("role", "", "grant this role globally (Admin, ReadOnly, NoAccess or a custom role)")
	var groups []string
	fs.Func("group", "make the user a member of this group (repeatable; created if missing)", func(g string) error {
		groups = append(groups, g)
		return nil
	})
	// Flags may come after the names: parse them out of the whole argument list.
	var names []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, usersUsage)
				return 0
			}
			return 2
		}
		rest = fs.Args()
		if len(rest) > 0 {
			names, rest = append(names, rest[0]), rest[1:]
		}
	}
	need := func(n int) bool {
		if len(names) != n {
			fmt.Fprintf(stderr, "wcpd %s %s: expected %d name(s), got %d\n\n%s", kind, verb, n, len(names), usersUsage)
			return false
		}
		return true
	}
	var err error
	switch kind + " " + verb {
	case "user ls":
		return listUsers(*dataDir, stdout, stderr)
	case "group ls":
		return listGroups(*dataDir, stdout, stderr)
	case "user add":
		if !need(1) {
			return 2
		}
		var pw string
		if pw, err = newPassword(stdin); err == nil {
			err = auth.EditFile(*dataDir, func(f *auth.File) error {
				f.AddUser(names[0], pw, *role, groups...)
				return nil
			})
		}
	case "user passwd":
		if !need(1) {
			return 2
		}
		var pw string
		if pw, err = newPassword(stdin); err == nil {
			err = auth.EditFile(*dataDir, func(f *auth.File) error {
				i := slices.IndexFunc(f.Users, func(u auth.UserEntry) bool { return strings.EqualFold(u.Name, names[0]) })
				if i < 0 {
					return fmt.Errorf("no user %q", names[0])
				}
				f.Users[i].Password, f.Users[i].PasswordHash = pw, ""
				return nil
			})
		}
	case "user rm":
		if !need(1) {
			return 2
		}
		err = auth.EditFile(*dataDir, func(f *auth.File) error { return f.RemoveUser(names[0]) })
	case "group add":
		if !need(1) {
			return 2
		}
		err = auth.EditFile(*dataDir, func(f *auth.File) error {
			f.Groups = append(f.Groups, auth.GroupEntry{Name: names[0]})
			return nil
		})
	case "group rm":
		if !need(1) {
			return 2
		}
		err = auth.EditFile(*dataDir, func(f *auth.File) error { return f.RemoveGroup(names[0]) })
	case "group add-member", "group rm-member":
		if !need(2) {
			return 2
		}
		err = auth.EditFile(*dataDir, func(f *auth.File) error { return f.SetMember(names[0], names[1], verb == "add-member") })
	default:
		fmt.Fprintf(stderr, "wcpd %s: unknown command %q\n\n%s", kind, verb, usersUsage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "wcpd %s %s: %v\n", kind, verb, err)
		return 1
	}
	return 0
}

// newPassword reads a new password from WCPD_PASSWORD or the first line of stdin.
func newPassword(stdin io.Reader) (string, error) {
	pw, err := loginPassword(stdin, io.Discard, "the user")
	if err == nil && pw == "" {
		err = errors.New("the password is empty")
	}
	return pw, err
}

func listUsers(dataDir string, stdout, stderr io.Writer) int {
	f, err := auth.ReadFile(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd user ls: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "USER\tGROUPS\tROLES")
	for _, u := range f.Users {
		var groups, roles []string
		for _, g := range f.Groups {
			if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, u.Name) }) {
				groups = append(groups, g.Name)
			}
		}
		for _, p := range f.Permissions {
			if strings.EqualFold(p.User, u.Name) {
				roles = append(roles, p.Role)
			}
		}
		sort.Strings(groups)
		fmt.Fprintf(stdout, "%s@%s\t%s\t%s\n", u.Name, auth.Domain, strings.Join(groups, ","), strings.Join(roles, ","))
	}
	return 0
}

func listGroups(dataDir string, stdout, stderr io.Writer) int {
	f, err := auth.ReadFile(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "wcpd group ls: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "GROUP\tMEMBERS")
	for _, g := range f.Groups {
		fmt.Fprintf(stdout, "%s@%s\t%s\n", g.Name, auth.Domain, strings.Join(g.Members, ","))
	}
	return 0
}
