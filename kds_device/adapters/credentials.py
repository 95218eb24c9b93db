"""The screen's current secrets (bearer token, broker login), shared by its HTTP clients and its
MQTT feed, and renewed in place when the gateway says they were rotated.

``kds-gateway devices rotate ID`` retires a screen's token and broker password. The gateway then
answers every call but one with 401 ``credentials_rotated``; the first HTTP client to see that
trades the old token for new ones (``POST /api/v1/credentials``, once: the old token dies with
it), saves them to ``enrollment.json`` before using them, and tells the others: the other HTTP
clients read the token per request, the MQTT feed logs in with the new password on its next
reconnect. A plain 401 ``unauthorized`` is different: the screen was removed (revoked).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kds_device.adapters.enrollment import Enrollment, MqttSettings, save_enrollment

log = logging.getLogger(__name__)

RENEW_PATH = "/api/v1/credentials"
ROTATED = "credentials_rotated"


class Credentials:
    """Thread-safe holder of the enrollment; :meth:`renew` runs once per rotation."""

    def __init__(self, enrollment: Enrollment, data_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._enrollment = enrollment
        self._data_dir = data_dir
        self._listeners: list[Callable[[Enrollment], None]] = []

    @property
    def enrollment(self) -> Enrollment:
        with self._lock:
            return self._enrollment

    @property
    def token(self) -> str:
        return self.enrollment.token

    def on_renewed(self, callback: Callable[[Enrollment], None]) -> None:
        """Call ``callback(new enrollment)`` (on the renewing thread) after each renewal."""
        with self._lock:
            self._listeners.append(callback)

    def renew(
        self,
        stale_token: str,
        post: Callable[[str, str], Mapping[str, Any]],
    ) -> bool:
        """Trade ``stale_token`` for new secrets with ``post(path, token)`` (which raises the
        gateway client's errors). True when there are new ones to retry with (also when
        another thread renewed meanwhile)."""
        with self._lock:
            if self._enrollment.token != stale_token:
                return True
            body = post(RENEW_PATH, stale_token)
            token = body.get("token")
            if not isinstance(token, str) or not token:
                log.error("credential renewal answered without a token")
                return False
            try:
                mqtt = MqttSettings.from_json(body.get("mqtt"))
            except ValueError as error:
                log.error("credential renewal answered malformed broker settings: %s", error)
                mqtt = self._enrollment.mqtt
            renewed = dataclasses.replace(self._enrollment, token=token, mqtt=mqtt)
            if self._data_dir is not None:
                try:
                    save_enrollment(self._data_dir, renewed)
                except OSError as error:
                    # Used anyway: this run works; after a restart the screen must re-enroll.
                    log.error("new credentials not saved (%s): re-enroll after a restart", error)
            self._enrollment = renewed
            listeners = list(self._listeners)
        log.info("credentials renewed after a rotation at the gateway")
        for callback in listeners:
            try:
                callback(renewed)
            except Exception:
                log.exception("a credentials listener failed")
        return True
