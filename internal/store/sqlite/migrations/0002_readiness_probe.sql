-- One row the readiness check writes (Store.Ping): a database that can
-- be read but not written (full disk, locked) is not ready.
CREATE TABLE readiness_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL -- unix milliseconds of the latest check
);
