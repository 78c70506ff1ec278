-- One row the readiness check writes (Store.Ping): a database that can
-- be read but not written (full disk, read-only standby) is not ready.
-- UNLOGGED would skip the WAL the check means to exercise, so it is not.
CREATE TABLE readiness_probe (
    id         integer     PRIMARY KEY CHECK (id = 1),
    checked_at timestamptz NOT NULL
);
