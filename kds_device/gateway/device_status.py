"""What the operator sees of each screen: who it is and its latest heartbeat.

Read by ``kds-gateway devices list`` and the admin page through
:meth:`~kds_device.gateway.ports.DeviceRegistry.heartbeats`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A screen silent for longer than this (no heartbeat, no other call) is offline.
SILENT_S = 60.0


@dataclass(frozen=True)
class DeviceStatus:
    """One screen. The heartbeat fields are None until its first heartbeat arrives (a screen
    running software without one, or one that never started)."""

    device_id: str
    location_id: str
    name: str
    #: What the screen reported it shows ("all", "expo", "stations"); before any heartbeat,
    #: the role the gateway gave it.
    role: str
    stations: tuple[str, ...]
    version: str | None
    #: "mqtt", "http" or "offline", as the screen last said.
    link: str | None
    bumps_waiting: int | None
    last_seq: int | None
    clock_synced: bool | None
    cpu_temp_c: float | None
    #: Epoch seconds of the last heartbeat or other call from the screen (None: never).
    seen_at: float | None
    #: Revoked (``kds-gateway devices revoke``): its token no longer works. Listed for a while
    #: after the revocation so the operator sees it go.
    revoked: bool = False
    #: Rotated: it has yet to fetch its new credentials.
    rotated: bool = False

    def online(self, now: float, silent_s: float = SILENT_S) -> bool:
        """Heard from within the last ``silent_s`` seconds (and not revoked)."""
        if self.revoked or self.seen_at is None:
            return False
        return now - self.seen_at <= silent_s

    def silent_for(self, now: float) -> float | None:
        """Seconds since the screen was last heard from (None: never)."""
        return None if self.seen_at is None else max(0.0, now - self.seen_at)
