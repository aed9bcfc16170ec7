package services

import (
	"encoding/base64"
	"strings"

	"gopkg.in/yaml.v3"
)

// secretWords mark a service_config key whose value is a credential: such values are stored but
// never returned (yaml_service_config leaves those keys out).
var secretWords = []string{"password", "passwd", "secret", "token", "credential"}

func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// checkServiceConfig validates the configuration of a create or set: at most one of service_config
// and yaml_service_config, and the latter base64-encoded YAML holding a mapping. It returns the YAML
// in canonical base64.
func checkServiceConfig(config map[string]string, yamlConfig *string) (string, error) {
	var bad invalid
	if yamlConfig == nil {
		return "", nil
	}
	if config != nil {
		bad.field("spec.yaml_service_config", abbreviate(*yamlConfig), "set at most one of service_config and yaml_service_config")
		return "", bad.err()
	}
	raw, why := decodeBase64(*yamlConfig)
	if why != "" {
		bad.field("spec.yaml_service_config", abbreviate(*yamlConfig), why)
		return "", bad.err()
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		bad.field("spec.yaml_service_config", abbreviate(*yamlConfig), "is not valid YAML: "+err.Error())
		return "", bad.err()
	}
	if _, ok := doc.(map[string]any); !ok && doc != nil {
		bad.field("spec.yaml_service_config", abbreviate(*yamlConfig), "must be a YAML mapping of configuration keys to values")
		return "", bad.err()
	}
	return base64.StdEncoding.EncodeToString(raw), nil
}

// visibleServiceConfig is the yaml_service_config an install reports: the configuration that was
// set, as base64 YAML, without the keys that name a password or a secret (at any depth).
func visibleServiceConfig(config map[string]string, yamlConfig string) *string {
	var doc map[string]any
	switch {
	case yamlConfig != "":
		raw, _ := base64.StdEncoding.DecodeString(yamlConfig)
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			return nil
		}
	case config != nil:
		doc = map[string]any{}
		for k, v := range config {
			doc[k] = v
		}
	default:
		return nil
	}
	if doc == nil {
		doc = map[string]any{}
	}
	out, err := yaml.Marshal(withoutSecrets(doc))
	if err != nil {
		return nil
	}
	s := base64.StdEncoding.EncodeToString(out)
	return &s
}

// withoutSecrets copies a YAML value, dropping mapping keys that name a credential.
func withoutSecrets(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !isSecretKey(k) {
				out[k] = withoutSecrets(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutSecrets(e)
		}
		return out
	}
	return v
}
