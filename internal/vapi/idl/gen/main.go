// Command gen writes ../zz_generated.go, the vAPI metadata, from the machine-readable vCenter API
// reference files kept beside the repository (../shared/reference): the Supervisor API and its
// neighbours. Run it with `go generate ./internal/vapi/idl`.
package main

import (
	"fmt"
	"os"

	"github.com/wcpd/wcpd/internal/vapi/idl"
)

func main() {
	files, err := idl.ReferenceFiles(".")
	if err == nil {
		var src []byte
		if src, err = idl.Generate(files); err == nil {
			err = os.WriteFile("zz_generated.go", src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
