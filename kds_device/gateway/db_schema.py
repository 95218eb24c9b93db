"""The gateway database's schema, one script per version (``PRAGMA user_version``)."""

from __future__ import annotations

SCHEMA_VERSION = 6

_SCHEMA_V1 = """
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL DEFAULT '',
    external_ref TEXT NOT NULL DEFAULT '',
    registered_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    order_id TEXT,
    data TEXT NOT NULL,
    at TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (location_id, seq)
);
CREATE INDEX events_by_order ON events (location_id, order_id);
CREATE TABLE orders (
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    void_reason TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 0,
    sent_status INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    finished REAL,
    PRIMARY KEY (location_id, order_id)
);
CREATE INDEX orders_by_age ON orders (created);
CREATE TABLE products (
    location_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    count INTEGER NOT NULL,
    synced REAL NOT NULL
);
CREATE TABLE rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT,
    endpoint TEXT NOT NULL,
    reason TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE enroll_codes (
    code_hash TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    used REAL,
    device_id TEXT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    name TEXT NOT NULL,
    station TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    last_seen REAL
);
CREATE TABLE status_requests (
    device_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (device_id, key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    claimed_by TEXT,
    lease_until REAL,
    created REAL NOT NULL,
    done REAL,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (location_id, order_id, status)
);
CREATE INDEX outbox_pending ON outbox (state, next_at);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until REAL NOT NULL
);
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

#: Device lifecycle: a rotated device may only trade its token for new credentials; failed
#: enrollment attempts per client and per code, for the back-off.
_SCHEMA_V2 = """
ALTER TABLE devices ADD COLUMN rotated REAL;
CREATE TABLE enroll_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    blocked_until REAL NOT NULL,
    last REAL NOT NULL
);
"""

# v3: idempotency keys are scoped per order (the same key on another order is another
# request); orders journaled with problems keep their raw body in ``flagged``.
_SCHEMA_V3 = """
CREATE TABLE status_requests_v2 (
    device_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (device_id, order_id, key)
);
INSERT INTO status_requests_v2 (device_id, order_id, key, response, created)
    SELECT device_id, COALESCE(json_extract(response, '$.orderId'), ''), key, response, created
    FROM status_requests;
DROP TABLE status_requests;
ALTER TABLE status_requests_v2 RENAME TO status_requests;
CREATE TABLE flagged (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    location_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    problems TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL
);
"""

# v4: a kitchen of stations: each screen's role (JSON, NULL = all) and each location's current
# routing rules (the normalised JSON that ``stations.rules`` journaled, and its version).
_SCHEMA_V4 = """
ALTER TABLE devices ADD COLUMN role TEXT;
CREATE TABLE station_rules (
    location_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated REAL NOT NULL
);
"""

# v5: each screen's latest heartbeat (gateway/heartbeats.py), and a row for a revoked screen
# (``revoked`` set, its ``devices`` row gone) so the operator sees it go.
_SCHEMA_V5 = """
CREATE TABLE heartbeats (
    device_id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT,
    role TEXT NOT NULL,
    stations TEXT NOT NULL DEFAULT '[]',
    link TEXT,
    bumps_waiting INTEGER,
    last_seq INTEGER,
    clock_synced INTEGER,
    cpu_temp_c REAL,
    received_at REAL,
    revoked REAL
);
CREATE INDEX heartbeats_by_location ON heartbeats (location_id);
"""

# v6: order-to-screen delays the screens report in their heartbeats (``shown_ms``): one row per
# screen and event, ``at`` the journal time of the ``order.received`` (gateway/heartbeats.py).
_SCHEMA_V6 = """
CREATE TABLE shown_delays (
    device_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at REAL NOT NULL,
    ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX shown_delays_by_at ON shown_delays (at);
"""

MIGRATIONS = {
    1: _SCHEMA_V1,
    2: _SCHEMA_V2,
    3: _SCHEMA_V3,
    4: _SCHEMA_V4,
    5: _SCHEMA_V5,
    6: _SCHEMA_V6,
}
