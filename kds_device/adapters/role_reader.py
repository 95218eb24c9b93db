"""Asks the gateway once what this screen is for (``GET /api/v1/device``) and hands the
answer to the board, retrying with backoff until the gateway answers. A later change arrives
as a ``device.role`` event in the feed; the board applies that itself."""

from __future__ import annotations

import logging
import threading

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.gateway_client import GatewayClient, GatewayRefused, GatewayUnreachable
from kds_device.domain.roles import Role
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Message, RoleChanged

log = logging.getLogger(__name__)


class RoleReader:
    def __init__(
        self, client: GatewayClient, inbox: Inbox[Message], backoff: Backoff | None = None
    ) -> None:
        self._client = client
        self._inbox = inbox
        self._backoff = backoff or Backoff(initial_s=1.0, maximum_s=30.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="role-reader", daemon=True)
        #: The role the gateway named, once it answered (the heartbeat reports it until the
        #: board says what it shows).
        self.role: Role | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                body = self._client.device_info()
            except GatewayRefused as error:
                if error.status == 404:  # a gateway without roles: this screen stays as it is
                    log.info("the gateway names no role for this screen (%s)", error)
                    return
                log.debug("device info refused: %s", error)
            except GatewayUnreachable as error:
                log.debug("device info: %s", error)
            else:
                try:
                    role = Role.from_json(body.get("role"))
                except ValueError as error:
                    log.warning("the gateway's role for this screen is unreadable: %s", error)
                    return
                self.role = role
                self._inbox.post(RoleChanged(role))
                return
            self._stop.wait(self._backoff.next_delay())
