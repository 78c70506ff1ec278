package sqlite

import (
	"context"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// eventTypeColumns are the columns scanEventType reads, in its order.
const eventTypeColumns = `tenant, name, description, category, version, deprecated,
	payload_schema, example_payload, created_at, updated_at`

// eventTypeArgs returns et's column values in eventTypeColumns order.
func eventTypeArgs(et *hookd.EventType) []any {
	r := rowcodec.EncodeEventType(et)
	return []any{et.Tenant, et.Name, et.Description, et.Category, et.Version, et.Deprecated,
		r.PayloadSchema, r.ExamplePayload, ms(et.CreatedAt), ms(et.UpdatedAt)}
}

// scanEventType reads one row of eventTypeColumns.
func scanEventType(row interface{ Scan(...any) error }) (*hookd.EventType, error) {
	var et hookd.EventType
	var r rowcodec.EventType
	var createdAt, updatedAt int64
	if err := row.Scan(&et.Tenant, &et.Name, &et.Description, &et.Category, &et.Version,
		&et.Deprecated, &r.PayloadSchema, &r.ExamplePayload, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	r.Decode(&et)
	et.CreatedAt, et.UpdatedAt = fromMs(createdAt), fromMs(updatedAt)
	return &et, nil
}

// CreateEventType stores a tenant's event type; EConflict when the tenant
// already has one with that name.
func (s *Store) CreateEventType(ctx context.Context, et *hookd.EventType) error {
	res, err := s.writer.ExecContext(ctx, "INSERT INTO event_types ("+eventTypeColumns+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, name) DO NOTHING", eventTypeArgs(et)...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return hookd.Errorf(hookd.EConflict, "event type %q already exists", et.Name)
	}
	return nil
}

// UpdateEventType replaces the tenant's type et.Name (its CreatedAt stays).
func (s *Store) UpdateEventType(ctx context.Context, et *hookd.EventType) error {
	a := eventTypeArgs(et)
	res, err := s.writer.ExecContext(ctx, `UPDATE event_types SET description = ?, category = ?,
		version = ?, deprecated = ?, payload_schema = ?, example_payload = ?, updated_at = ?
		WHERE tenant = ? AND name = ?`, a[2], a[3], a[4], a[5], a[6], a[7], a[9], a[0], a[1])
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return hookd.Errorf(hookd.ENotFound, "event type not found")
	}
	return nil
}

// GetEventType returns the tenant's event type name.
func (s *Store) GetEventType(ctx context.Context, tenant, name string) (*hookd.EventType, error) {
	et, err := scanEventType(s.reader.QueryRowContext(ctx, "SELECT "+eventTypeColumns+
		" FROM event_types WHERE tenant = ? AND name = ?", tenant, name))
	if err != nil {
		return nil, notFound(err, "event type")
	}
	return et, nil
}

// ListEventTypes returns the tenant's event types ordered by name.
func (s *Store) ListEventTypes(ctx context.Context, tenant string) ([]*hookd.EventType, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT "+eventTypeColumns+
		" FROM event_types WHERE tenant = ? ORDER BY name", tenant)
	if err != nil {
		return nil, err
	}
	return scanRows(rows, scanEventType)
}
