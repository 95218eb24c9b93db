"""Picks the gateway's store from its config: PostgreSQL when ``database.url`` is set,
otherwise the SQLite file at ``database.path``."""

from __future__ import annotations

from pathlib import Path

from kds_device.gateway.config import DatabaseConfig
from kds_device.gateway.storage import Store


def open_store(config: DatabaseConfig) -> Store:
    """The configured store, its schema migrated to this gateway's version."""
    if config.url:
        # Imported here: a single-site gateway need not have psycopg installed.
        from kds_device.gateway.pg_store import PostgresStore

        return PostgresStore(config.url, config.busy_timeout_s, config.pool_size)
    from kds_device.gateway.db import Database

    return Database(Path(config.path), config.busy_timeout_s)
