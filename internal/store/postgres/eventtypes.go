package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hookd/hookd/internal/hookd"
	"github.com/hookd/hookd/internal/store/rowcodec"
)

// eventTypeColumns are the columns scanEventType reads, in its order.
const eventTypeColumns = `tenant, name, description, category, version, deprecated,
	payload_schema, example_payload, created_at, updated_at`

// scanEventType reads one row of eventTypeColumns.
func scanEventType(row pgx.Row) (*hookd.EventType, error) {
	var et hookd.EventType
	var r rowcodec.EventType
	if err := row.Scan(&et.Tenant, &et.Name, &et.Description, &et.Category, &et.Version,
		&et.Deprecated, &r.PayloadSchema, &r.ExamplePayload, &et.CreatedAt, &et.UpdatedAt); err != nil {
		return nil, err
	}
	r.Decode(&et)
	et.CreatedAt, et.UpdatedAt = utc(et.CreatedAt), utc(et.UpdatedAt)
	return &et, nil
}

// CreateEventType stores a tenant's event type; EConflict when the tenant
// already has one with that name.
func (s *Store) CreateEventType(ctx context.Context, et *hookd.EventType) error {
	r := rowcodec.EncodeEventType(et)
	tag, err := s.pool.Exec(ctx, "INSERT INTO event_types ("+eventTypeColumns+
		`) VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::json, $9, $10) ON CONFLICT (tenant, name) DO NOTHING`,
		et.Tenant, et.Name, et.Description, et.Category, et.Version, et.Deprecated,
		r.PayloadSchema, r.ExamplePayload, et.CreatedAt, et.UpdatedAt)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return hookd.Errorf(hookd.EConflict, "event type %q already exists", et.Name)
	}
	return nil
}

// UpdateEventType replaces the tenant's type et.Name (its CreatedAt stays).
func (s *Store) UpdateEventType(ctx context.Context, et *hookd.EventType) error {
	r := rowcodec.EncodeEventType(et)
	tag, err := s.pool.Exec(ctx, `UPDATE event_types SET description = $1, category = $2,
		version = $3, deprecated = $4, payload_schema = $5::json, example_payload = $6::json, updated_at = $7
		WHERE tenant = $8 AND name = $9`,
		et.Description, et.Category, et.Version, et.Deprecated, r.PayloadSchema, r.ExamplePayload,
		et.UpdatedAt, et.Tenant, et.Name)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return hookd.Errorf(hookd.ENotFound, "event type not found")
	}
	return nil
}

// GetEventType returns the tenant's event type name.
func (s *Store) GetEventType(ctx context.Context, tenant, name string) (*hookd.EventType, error) {
	et, err := scanEventType(s.pool.QueryRow(ctx, "SELECT "+eventTypeColumns+
		" FROM event_types WHERE tenant = $1 AND name = $2", tenant, name))
	if err != nil {
		return nil, notFound(err, "event type")
	}
	return et, nil
}

// ListEventTypes returns the tenant's event types ordered by name.
func (s *Store) ListEventTypes(ctx context.Context, tenant string) ([]*hookd.EventType, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+eventTypeColumns+
		" FROM event_types WHERE tenant = $1 ORDER BY name COLLATE \"C\"", tenant)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEventType)
}
