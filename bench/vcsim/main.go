// Command vcsim serves govmomi's simulator with its vAPI and namespace simulators, as the benchmark's
// point of comparison. It is a process of its own because the namespace simulator registers its
// handlers globally: it must never be linked into wcpd.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"

	"github.com/vmware/govmomi/simulator"

	_ "github.com/vmware/govmomi/vapi/namespace/simulator"
	_ "github.com/vmware/govmomi/vapi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	log.SetOutput(io.Discard) // the simulators log every request
	model := simulator.VPX()
	model.Cluster = 2
	if err := model.Create(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	model.Service.RegisterEndpoints = true
	model.Service.TLS = new(tls.Config)
	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword("user", "pass")}
	srv := model.Service.NewServer()
	fmt.Println(srv.URL.String())
	// Serve until the parent closes stdin.
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	model.Remove()
}
