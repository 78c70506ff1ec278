package hookd

// WebhookVersion is one active webhook row as RecheckWebhooks answers it.
type WebhookVersion struct {
	// Version is a fingerprint of the stored row: any change to the row
	// (a sealed value sealed again included) gives another one.
	Version uint64
	// Webhook is the row, opened; nil when the caller already knew this
	// Version, so the row is unchanged since the read that answered it.
	Webhook *Webhook
}
