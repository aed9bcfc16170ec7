// Package kubeproc owns the child-process entry points of the upstream Kubernetes servers that wcpd
// runs for each Supervisor: kube-apiserver, kube-controller-manager and kube-scheduler, built from
// k8s.io/kubernetes into the wcpd binary and started as `wcpd kube-apiserver …` and so on.
//
// The upstream cobra commands install process-wide signal handling and may be built only once per
// process, so every server runs in a process of its own, supervised by internal/kubesup.
package kubeproc

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream's main registers them
	_ "k8s.io/component-base/metrics/prometheus/version"  // build-info metric, as upstream's main registers it
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// Commands names the subcommands this package serves.
var Commands = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// Main runs the server named by args[0] with the rest of args as its flags, and returns its exit
// code. ok is false when args[0] names none of Commands.
func Main(args []string) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	var cmd *cobra.Command
	switch args[0] {
	case "kube-apiserver":
		cmd = apiserver.NewAPIServerCommand()
	case "kube-controller-manager":
		cmd = controllermanager.NewControllerManagerCommand()
	case "kube-scheduler":
		cmd = scheduler.NewSchedulerCommand()
	default:
		return 0, false
	}
	cmd.SetArgs(args[1:])
	return cli.Run(cmd), true
}

// RunIfChild runs the server named by os.Args[1] and exits when the process was started as one of
// Commands; otherwise it returns. Both wcpd's main and the TestMain of packages that start
// Supervisors' Kubernetes servers call it first.
func RunIfChild() {
	if len(os.Args) < 2 {
		return
	}
	if code, ok := Main(os.Args[1:]); ok {
		os.Exit(code)
	}
}
