"""The board file (``board.db``) as the device's core keeps it: the tickets, and the meta that
lets a restart carry on where it stopped (the last seq applied, the role, the last order's
time, the couriers), with the clock frame that keeps ages right across a reboot.

Saved after the frame that showed a change (see
:meth:`BoardCore.persist <kds_device.runtime.board_core.BoardCore.persist>`), only when
something changed; a fresh (wall, monotonic) pair is written on every prune pass.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kds_device.adapters.store import BoardStore
from kds_device.domain.board import PAGE_CHANGED, Board, Outcome
from kds_device.domain.clock import Instant
from kds_device.domain.roles import Role

log = logging.getLogger(__name__)

LAST_SEQ = "last_seq"
LAST_ORDER = "last_order_wall"
COURIERS = "couriers"  # the couriers of the orders (kds_device.domain.courier), as JSON
ROLE = "role"


class BoardFile:
    """``board``'s file: restored by :meth:`open`, written by :meth:`save`; without a file
    (``store`` None) the board runs without persistence."""

    def __init__(self, board: Board, now: Callable[[], Instant]) -> None:
        self.board = board
        self.now = now
        self.store: BoardStore | None = None
        #: The last seq and role in the file (restored, then saved).
        self.saved_seq = 0
        self.saved_role = board.role.to_text()
        #: The last order's wall time the file held when opened.
        self.opened_last_order: datetime | None = None

    def open(self, path: Path) -> None:
        """Restore the board saved at ``path`` (``saved_seq`` and ``opened_last_order`` say
        what else it held). An unusable file is logged and left: the board runs without one."""
        try:
            self.store = BoardStore(path)
            self.board.restore(self.store.load(self.now()))
            self.saved_seq = int(self.store.get_meta(LAST_SEQ) or 0)
            self._restore_role(self.store.get_meta(ROLE))
            last = self.store.get_meta(LAST_ORDER)
            self.opened_last_order = datetime.fromisoformat(last) if last else None
            self.board.pace.courier.load(_json_or_none(self.store.get_meta(COURIERS)))
            self.board.release_due(self.now())  # scheduled tickets wait UPCOMING again
        except Exception:
            log.exception("board store unusable; running without persistence")
            self.store = None

    def _restore_role(self, saved: str | None) -> None:
        """The role last heard from the gateway (a ``device.role`` event after enrollment)."""
        if not saved:
            return
        try:
            self.board.set_role(Role.from_text(saved))
        except ValueError:
            log.warning("saved role %r unreadable; keeping %s", saved, self.board.role)
        self.saved_role = self.board.role.to_text()

    def save(self, outcome: Outcome, last_seq: int, last_order_wall: datetime | None) -> bool:
        """Write the tickets ``outcome`` changed or removed and the meta, if anything
        changed; False when the file refused."""
        ids = outcome.changed - {PAGE_CHANGED}
        role = self.board.role.to_text()
        if self.store is None or not (
            ids or outcome.removed or last_seq != self.saved_seq or role != self.saved_role
        ):
            return True
        tickets = [t for t in (self.board.ticket(i) for i in ids) if t is not None]
        meta = {LAST_SEQ: str(last_seq), ROLE: role}
        if last_order_wall is not None:
            meta[LAST_ORDER] = last_order_wall.isoformat()
        couriers = self.board.pace.courier
        if couriers.dirty:
            meta[COURIERS] = json.dumps(couriers.to_json(), separators=(",", ":"))
        try:
            self.store.save(tickets, meta, self.now())  # with the clock frame: ages survive
            if outcome.removed:
                self.store.delete(outcome.removed)
            self.saved_seq, self.saved_role = last_seq, role
            couriers.dirty = False
        except Exception:
            log.exception("saving the board failed")
            return False
        return True

    def save_clock_frame(self, now: Instant) -> None:
        """A fresh (wall, mono) pair in the board file: ages after a reboot."""
        try:
            if self.store is not None:
                self.store.save([], None, now)
        except Exception:
            log.exception("saving the clock frame failed")

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        log.warning("saved courier states unreadable; starting without them")
        return None
