package spherelet

import (
	"fmt"
	"net/http"
	"strings"
)

// KubeletPaths are the kubelet API paths the API servers call for a pod's containers: logs, exec,
// attach, port-forward and run. The Spherelets' runtime is simulated — no container process
// exists — so each answers 400 with a message saying so; kube-apiserver passes it on as the
// request's error (`Error from server (BadRequest): …` in kubectl), rather than a client waiting
// on a stream that never comes.
var KubeletPaths = []string{"/containerLogs/", "/exec/", "/attach/", "/portForward/", "/run/"}

// RuntimeHandler answers the kubelet API paths.
func RuntimeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		parts := strings.Split(rest, "/")
		pod := rest
		if len(parts) >= 2 {
			pod = parts[0] + "/" + parts[1]
		}
		verb := map[string]string{"containerLogs": "logs", "exec": "exec", "attach": "attach",
			"portForward": "port-forward", "run": "run"}[what]
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "%s is not available for pod %s: wcpd runs vSphere Pods in a simulated runtime, "+
			"where the pod VM exists but container processes are not executed", verb, pod)
	})
}
