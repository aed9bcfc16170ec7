package services

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wcpd/wcpd/internal/controller"
	"github.com/wcpd/wcpd/internal/platform"
	"github.com/wcpd/wcpd/internal/store"
)

// Installed services run: with the Kubernetes side on, an install applies its version's content
// (content.workloads) into the service's namespace on the Supervisor's API server — its CRDs,
// Deployments and the rest, whose pods run as vSphere Pods — and is CONFIGURED only once they are
// ready; set applies the new version's content and deletes what it dropped; delete removes it all.

// fieldManager owns, in server-side apply, what the installs apply.
const fieldManager = "wcpd-supervisor-services"

// workloadPoll is how often an install waits for its workloads to become ready.
const workloadPoll = 2 * time.Second

func (f *Family) kubernetes() platform.Kubernetes {
	if f.deps.Families == nil {
		return nil
	}
	return f.deps.Families.Kubernetes
}

// versionWorkloads reads a version's content and the objects it installs.
func (f *Family) versionWorkloads(service, version string) (docs [][]byte, unfetchable string, err error) {
	svc, ok := f.services.Get(service)
	if !ok {
		return nil, "", fmt.Errorf("Supervisor Service %s is gone", service)
	}
	v, ok := svc.Value.Versions[version]
	if !ok {
		return nil, "", fmt.Errorf("version %s of Supervisor Service %s is gone", version, service)
	}
	rec, ok := f.contents.Get(v.ContentKey)
	if !ok {
		return nil, "", fmt.Errorf("the content of version %s of Supervisor Service %s is gone", version, service)
	}
	raw, reason := decodeBase64(rec.Value.Content)
	if reason != "" {
		return nil, "", fmt.Errorf("the content of version %s %s", version, reason)
	}
	return parseContent(raw).workloads()
}

// runWorkloads takes a CONFIGURING install whose step time is over through applying its content
// and waiting for it; done says the install may become CONFIGURED.
func (f *Family) runWorkloads(ctx context.Context, rec store.Record[installRecord], k platform.Kubernetes) (res controller.Result, done bool, err error) {
	in := rec.Value
	say := func(severity, id, format string, args ...any) error {
		msg := newMessage(severity, id, format, args...)
		if len(in.Messages) == 1 && in.Messages[0].Text == msg.Text {
			return nil // unchanged: no write
		}
		return f.update(ctx, rec, func(r *installRecord) { r.Messages = []installMessage{msg} })
	}
	if st, ok := k.APIServer(in.Cluster); !ok || !st.Ready {
		return controller.Result{RequeueAfter: retryInterval}, false, say(severityWarning, "kubernetes_not_ready",
			"Waiting for the Supervisor's Kubernetes API server to apply version %s of Supervisor Service %s.", in.DesiredVersion, in.Service)
	}
	if in.AppliedGeneration != in.Generation {
		docs, unfetchable, err := f.versionWorkloads(in.Service, in.DesiredVersion)
		if err != nil {
			return controller.Result{}, false, f.update(ctx, rec, func(r *installRecord) {
				r.ConfigStatus = installError
				r.Messages = []installMessage{newMessage(severityError, "content_unusable", "Version %s cannot be installed: %v", in.DesiredVersion, err)}
			})
		}
		applied, err := k.ApplyWorkloads(ctx, in.Cluster, in.ServiceNamespace, fieldManager, docs)
		if err != nil {
			f.log.Warn("applying a Supervisor Service's content", "install", rec.Key, "error", err)
			// What did apply is remembered, so that an uninstall removes it.
			return controller.Result{RequeueAfter: retryInterval}, false, f.update(ctx, rec, func(r *installRecord) {
				r.Applied = unionRefs(r.Applied, applied)
				r.Messages = []installMessage{newMessage(severityWarning, "apply_failed",
					"Applying the content of version %s failed and will be retried: %v", in.DesiredVersion, err)}
			})
		}
		var dropped []platform.ObjectRef
		for _, ref := range in.Applied {
			if !slices.Contains(applied, ref) {
				dropped = append(dropped, ref)
			}
		}
		if err := k.DeleteWorkloads(ctx, in.Cluster, dropped); err != nil {
			return controller.Result{RequeueAfter: retryInterval}, false, say(severityWarning, "delete_failed",
				"Removing what version %s no longer has failed and will be retried: %v", in.DesiredVersion, err)
		}
		res, err := again(f.update(ctx, rec, func(r *installRecord) {
			r.Applied, r.AppliedGeneration, r.Unfetchable = applied, r.Generation, unfetchable
		}))
		return res, false, err
	}
	ready, why, err := k.WorkloadsReady(ctx, in.Cluster, in.Applied)
	if err != nil {
		return controller.Result{RequeueAfter: retryInterval}, false, say(severityWarning, "status_unknown",
			"The state of the workloads of version %s cannot be read and will be again: %v", in.DesiredVersion, err)
	}
	if !ready {
		return controller.Result{RequeueAfter: workloadPoll}, false, say(severityInfo, "waiting",
			"Waiting for the workloads of version %s: %s.", in.DesiredVersion, why)
	}
	return controller.Result{}, true, nil
}

// removeWorkloads deletes what the install applied, before its namespace goes (objects outside the
// namespace, such as CRDs, would not go with it); false while that has to wait for the API server.
func (f *Family) removeWorkloads(ctx context.Context, in installRecord) (bool, error) {
	k := f.kubernetes()
	if k == nil || len(in.Applied) == 0 {
		return true, nil
	}
	st, ok := k.APIServer(in.Cluster)
	if !ok {
		return true, nil // no API server holds anything
	}
	if !st.Ready {
		return false, nil
	}
	return true, k.DeleteWorkloads(ctx, in.Cluster, in.Applied)
}

func unionRefs(a, b []platform.ObjectRef) []platform.ObjectRef {
	out := slices.Clone(a)
	for _, r := range b {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
