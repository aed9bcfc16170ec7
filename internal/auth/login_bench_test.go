package auth

import (
	"testing"
)

// BenchmarkRememberedLogin is a login whose password bcrypt has already accepted: what every login
// after a client's first costs the identity directory (docs/performance.md, the login).
func BenchmarkRememberedLogin(b *testing.B) {
	d, _, err := Open(b.TempDir(), "Admin-pw-1!")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := d.Login("administrator@vsphere.local", "Admin-pw-1!"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Login("administrator@vsphere.local", "Admin-pw-1!"); err != nil {
			b.Fatal(err)
		}
	}
}
