package httpapi

// endpointAuthSchema is the schema of a webhook's auth (docs/api.md §12):
// one object per type; secrets are answered as "********".
func endpointAuthSchema() obj {
	str := obj{"type": "string"}
	kind := func(name string, required []string, props obj) obj {
		props["type"] = obj{"const": name}
		return obj{"type": "object", "additionalProperties": false, "required": append([]string{"type"}, required...), "properties": props}
	}
	return obj{"description": "how hookd authenticates to the endpoint; secrets are answered as \"********\", and a PUT that sends that back keeps the stored value",
		"oneOf": []obj{
			kind("basic", []string{"username", "password"}, obj{"username": str, "password": str}),
			kind("bearer", []string{"token"}, obj{"token": str}),
			kind("oauth2", []string{"token_url", "client_id", "client_secret"}, obj{
				"token_url": obj{"type": "string", "format": "uri"}, "client_id": str, "client_secret": str, "scope": str, "audience": str}),
			kind("mtls", []string{"client_certificate", "client_key"}, obj{
				"client_certificate": str, "client_key": str, "ca_certificate": str}),
		}}
}
