package hookd

// FirstIntegrationRowID is the first id of integrations' rows (Webhook.Kind
// != ""). Stores number users' webhooks 1, 2, 3… and integrations' rows
// from here up, each range from a counter of its own, so configuring an
// integration never takes a webhook id. 2^40 leaves room for a trillion
// webhooks below it and stays exact in a JSON number (2^53).
const FirstIntegrationRowID int64 = 1 << 40

// IsIntegrationRowID reports whether id is in integrations' range.
func IsIntegrationRowID(id int64) bool { return id >= FirstIntegrationRowID }
