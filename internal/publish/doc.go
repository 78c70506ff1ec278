// Package publish accepts published events and fans them out.
//
// It owns the Publisher: it validates each event against its type's
// schema, matches it against the tenant's active webhooks and their
// filters (cached for a second, or until invalidated), and stores the
// event with its deliveries in one transaction shared by concurrent
// publishers (group commit). It then hands the deliveries it leased to a
// Handoff (the dispatcher), so they are sent without being claimed.
package publish
