package hookd

// Types of a webhook's endpoint authentication (docs/api.md §12).
const (
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	AuthOAuth2 = "oauth2"
	AuthMTLS   = "mtls"
)

// EndpointAuth is how hookd authenticates to a webhook's endpoint, sent
// with every attempt (docs/api.md §12). Only the fields of its Type are
// set. Password, Token, ClientSecret and ClientKey are secrets: sealed at
// rest and answered as Masked.
type EndpointAuth struct {
	Type string `json:"type"`
	// basic
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// bearer
	Token string `json:"token,omitempty"`
	// oauth2: the client-credentials grant
	TokenURL     string `json:"token_url,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Scope        string `json:"scope,omitempty"`    // space-separated
	Audience     string `json:"audience,omitempty"` // sent as the token request's audience parameter
	// mtls: PEM blocks
	ClientCertificate string `json:"client_certificate,omitempty"`
	ClientKey         string `json:"client_key,omitempty"`
	CACertificate     string `json:"ca_certificate,omitempty"` // a private CA trusted for this endpoint only
}

// Secrets points at the secret fields of a, by their JSON names, so
// masking and keeping a masked value walk one list.
func (a *EndpointAuth) Secrets() map[string]*string {
	return map[string]*string{
		"password": &a.Password, "token": &a.Token,
		"client_secret": &a.ClientSecret, "client_key": &a.ClientKey,
	}
}

// Masked returns a copy of a whose secrets that are set read Masked; nil
// for nil.
func (a *EndpointAuth) Masked() *EndpointAuth {
	if a == nil {
		return nil
	}
	m := *a
	for _, v := range m.Secrets() {
		if *v != "" {
			*v = Masked
		}
	}
	return &m
}
