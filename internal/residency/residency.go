// Package residency owns which pages of the files wcpd maps stay resident once it has started.
// Start-up reads much it never reads again: the one binary carries the Kubernetes servers wcpd
// starts as child processes, and every process of it runs the package initialisation of all of them
// (in `wcpd serve` about 100 MB of code and read-only data), and the embedded etcd reads its whole
// database, which it maps into memory, to rebuild its index while wcpd fills its caches from it.
package residency

// Released says what ReleaseReadOnlyPages gave back.
type Released struct {
	// Mappings is how many mappings were released; Bytes is how much of them was resident before.
	Mappings int
	Bytes    int64
}
