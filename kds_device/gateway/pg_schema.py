"""The gateway's PostgreSQL schema, one script per version (table ``schema_version``).

The same tables as SQLite's (:mod:`~kds_device.gateway.db_schema`) in PostgreSQL's types:
times stay epoch seconds (``double precision``), flags stay integers, so the stores' SQL is
shared. ``events.xid`` is the writing transaction's id: the MQTT publisher hands events out in
(xid, id) order (ids commit out of order when several hosts write at once).
"""

from __future__ import annotations

SCHEMA_VERSION = 6

_SCHEMA_V1 = """
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    external_ref TEXT NOT NULL DEFAULT '',
    registered_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid XID8 NOT NULL DEFAULT pg_current_xact_id(),
    location_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    order_id TEXT,
    data TEXT NOT NULL,
    at TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    UNIQUE (location_id, seq)
);
CREATE INDEX events_by_order ON events (location_id, order_id);
CREATE INDEX events_in_commit_order ON events (xid, id);
CREATE TABLE orders (
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    void_reason TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0,
    sent_status INTEGER NOT NULL DEFAULT 0,
    created DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    finished DOUBLE PRECISION,
    PRIMARY KEY (location_id, order_id)
);
CREATE INDEX orders_by_age ON orders (created);
CREATE TABLE products (
    location_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    count INTEGER NOT NULL,
    synced DOUBLE PRECISION NOT NULL
);
CREATE TABLE rejected (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id TEXT,
    endpoint TEXT NOT NULL,
    reason TEXT NOT NULL,
    body BYTEA NOT NULL,
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE enroll_codes (
    code_hash TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    used DOUBLE PRECISION,
    device_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    name TEXT NOT NULL,
    station TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created DOUBLE PRECISION NOT NULL,
    last_seen DOUBLE PRECISION
);
CREATE TABLE status_requests (
    device_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (device_id, key)
);
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    lease_until DOUBLE PRECISION,
    created DOUBLE PRECISION NOT NULL,
    done DOUBLE PRECISION,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (location_id, order_id, status)
);
CREATE INDEX outbox_pending ON outbox (state, next_at);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until DOUBLE PRECISION NOT NULL
);
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
)
"""

#: Device lifecycle (as SQLite's version 2): rotated devices, enrollment back-off.
_SCHEMA_V2 = """
ALTER TABLE devices ADD COLUMN rotated DOUBLE PRECISION;
CREATE TABLE enroll_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    blocked_until DOUBLE PRECISION NOT NULL,
    last DOUBLE PRECISION NOT NULL
)
"""

#: As SQLite's version 3: idempotency keys scoped per order; flagged order bodies.
_SCHEMA_V3 = """
ALTER TABLE status_requests ADD COLUMN order_id TEXT NOT NULL DEFAULT '';
UPDATE status_requests SET order_id = COALESCE(response::json ->> 'orderId', '');
ALTER TABLE status_requests DROP CONSTRAINT status_requests_pkey;
ALTER TABLE status_requests ADD PRIMARY KEY (device_id, order_id, key);
ALTER TABLE status_requests ALTER COLUMN order_id DROP DEFAULT;
CREATE TABLE flagged (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    problems TEXT NOT NULL,
    body BYTEA NOT NULL,
    created DOUBLE PRECISION NOT NULL
)
"""

#: As SQLite's version 4: a kitchen of stations (screen roles, routing rules per location).
_SCHEMA_V4 = """
ALTER TABLE devices ADD COLUMN role TEXT;
CREATE TABLE station_rules (
    location_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated DOUBLE PRECISION NOT NULL
)
"""

#: As SQLite's version 5: each screen's latest heartbeat; revoked screens for a while.
_SCHEMA_V5 = """
CREATE TABLE heartbeats (
    device_id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    role TEXT NOT NULL,
    stations TEXT NOT NULL DEFAULT '[]',
    link TEXT,
    bumps_waiting BIGINT,
    last_seq BIGINT,
    clock_synced INTEGER,
    cpu_temp_c DOUBLE PRECISION,
    received_at DOUBLE PRECISION,
    revoked DOUBLE PRECISION
);
CREATE INDEX heartbeats_by_location ON heartbeats (location_id)
"""

#: As SQLite's version 6: the order-to-screen delays the screens report.
_SCHEMA_V6 = """
CREATE TABLE shown_delays (
    device_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX shown_delays_by_at ON shown_delays (at)
"""

MIGRATIONS = {
    1: _SCHEMA_V1,
    2: _SCHEMA_V2,
    3: _SCHEMA_V3,
    4: _SCHEMA_V4,
    5: _SCHEMA_V5,
    6: _SCHEMA_V6,
}
