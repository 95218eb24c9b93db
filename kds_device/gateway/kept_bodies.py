"""The bodies the gateway keeps for its operator: authenticated webhooks it refused
(``rejected``) and orders journaled with problems (``flagged``), each with its raw body exactly
as it came (``kds-gateway rejected`` / ``flagged``, the admin page).

A base of :class:`~kds_device.gateway.journal.Journal`: these are part of its port
(:class:`~kds_device.gateway.ports.EventJournal`), written over the same ``db``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from kds_device.gateway.storage import Store, json_text

#: The most a rejected body keeps (it is evidence, not an archive).
REJECTED_BODY_MAX = 65_536


class KeptBodies:
    """The ``rejected`` and ``flagged`` tables of one gateway database."""

    db: Store

    def record_rejected(
        self, location_id: str | None, endpoint: str, reason: str, body: bytes
    ) -> None:
        """Keep an authenticated body we refused, for the operator to look at."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO rejected (location_id, endpoint, reason, body, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (location_id, endpoint, reason[:500], body[:REJECTED_BODY_MAX], time.time()),
            )

    def rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest refused bodies' records (``id`` reads one with ``kept_body``)."""
        rows = self.db.read().execute(
            "SELECT id, location_id, endpoint, reason, created FROM rejected"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [dict(row) for row in rows]

    def record_flagged(
        self, location_id: str, order_id: str, problems: Sequence[str], body: bytes
    ) -> None:
        """Keep the raw body of an order journaled with problems, for the operator."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO flagged (location_id, order_id, problems, body, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (location_id, order_id, json_text(list(problems)), body, time.time()),
            )

    def flagged(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest orders journaled with problems: id, location, order, problems, when."""
        rows = self.db.read().execute(
            "SELECT id, location_id, order_id, problems, created FROM flagged"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [{**dict(row), "problems": json.loads(row["problems"])} for row in rows]

    def flagged_count(self) -> int:
        return int(self.db.read().execute("SELECT COUNT(*) FROM flagged").fetchone()[0])

    def kept_body(self, table: str, row_id: int) -> bytes | None:
        """The raw body of one ``rejected`` or ``flagged`` row, exactly as it came."""
        if table not in ("rejected", "flagged"):
            raise ValueError(f"no kept bodies in {table}")
        row = self.db.read().execute(f"SELECT body FROM {table} WHERE id = ?", (row_id,))
        found = row.fetchone()
        return None if found is None else bytes(found[0])
