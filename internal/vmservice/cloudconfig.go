package vmservice

import (
	"context"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	vmopv1 "github.com/vmware-tanzu/vm-operator/api/v1alpha5"
	vmopv1cloudinit "github.com/vmware-tanzu/vm-operator/api/v1alpha5/cloudinit"
	vmopv1common "github.com/vmware-tanzu/vm-operator/api/v1alpha5/common"
)

// cloudConfigUserData renders spec.bootstrap.cloudInit.cloudConfig as a #cloud-config document,
// as VM Operator does: the fields keep cloud-init's names; a user's passwd and hashed_passwd, and a
// file's content given as {name, key}, are read from the namespace's Secrets; defaultUserEnabled
// puts cloud-init's "default" user first; the spec's sshAuthorizedKeys go to that user, or to the
// document when there are no users.
func cloudConfigUserData(ctx context.Context, cl client.Client, vm *vmopv1.VirtualMachine, cc *vmopv1cloudinit.CloudConfig, keys []string) ([]byte, error) {
	secret := func(field string, sel vmopv1common.SecretKeySelector) (string, error) {
		return secretValue(ctx, cl, vm.Namespace, field, sel.Name, sel.Key)
	}
	doc := map[string]any{}
	if cc.Timezone != "" {
		doc["timezone"] = cc.Timezone
	}
	var users []any
	if cc.DefaultUserEnabled {
		users = append(users, "default")
	}
	for i, u := range cc.Users {
		var m map[string]any
		raw, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		for name, sel := range map[string]*vmopv1common.SecretKeySelector{"passwd": u.Passwd, "hashed_passwd": u.HashedPasswd} {
			if sel == nil {
				continue
			}
			v, err := secret(fmt.Sprintf("spec.bootstrap.cloudInit.cloudConfig.users[%d].%s", i, name), *sel)
			if err != nil {
				return nil, err
			}
			m[name] = v
		}
		users = append(users, m)
	}
	if len(keys) > 0 {
		if len(users) == 0 {
			doc["ssh_authorized_keys"] = keys
		} else if u, ok := users[0].(map[string]any); ok {
			u["ssh_authorized_keys"] = append(toStrings(u["ssh_authorized_keys"]), keys...)
		} else {
			doc["ssh_authorized_keys"] = keys // the default user takes the document's keys
		}
	}
	if len(users) > 0 {
		doc["users"] = users
	}
	if len(cc.RunCmd) > 0 {
		var cmds any
		if err := json.Unmarshal(cc.RunCmd, &cmds); err != nil {
			return nil, fmt.Errorf("spec.bootstrap.cloudInit.cloudConfig.runcmd: %w", err)
		}
		doc["runcmd"] = cmds
	}
	var files []any
	for i, f := range cc.WriteFiles {
		raw, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		var sel vmopv1common.SecretKeySelector
		if len(f.Content) > 0 && f.Content[0] == '{' {
			if err := json.Unmarshal(f.Content, &sel); err != nil || sel.Name == "" || sel.Key == "" {
				return nil, fmt.Errorf("spec.bootstrap.cloudInit.cloudConfig.write_files[%d].content: a string, or {name, key} of a Secret", i)
			}
			v, err := secret(fmt.Sprintf("spec.bootstrap.cloudInit.cloudConfig.write_files[%d].content", i), sel)
			if err != nil {
				return nil, err
			}
			m["content"] = v
		}
		files = append(files, m)
	}
	if len(files) > 0 {
		doc["write_files"] = files
	}
	if cc.SSHPwdAuth != nil {
		doc["ssh_pwauth"] = *cc.SSHPwdAuth
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append([]byte("#cloud-config\n"), out...), nil
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
