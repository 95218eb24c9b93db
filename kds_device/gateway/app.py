"""The gateway's composition root: builds the stores, the Flask app and the background threads.

:class:`Gateway` starts its parts in order (pruner, MQTT publisher, outbox worker) and stops
them in reverse. Each gunicorn worker builds its own (after the fork: the app is not
preloaded); DB leases and outbox claims make the background work safe when there are several,
and the notifiers' bells (SQLite: doorbells ``<db>.bells/journal``, ``<db>.bells/outbox``;
PostgreSQL: ``LISTEN/NOTIFY``) carry wake-ups from one worker (or host) to the others.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import uuid
from typing import Any, Protocol

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from kds_device.gateway import device_api, report_api, webhooks
from kds_device.gateway.admin import install_admin
from kds_device.gateway.broker_accounts import BrokerAccounts
from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.deliverect_client import DeliverectClient
from kds_device.gateway.devices import Devices
from kds_device.gateway.enroll_limits import EnrollLimits, EnrollPolicy
from kds_device.gateway.health import unavailable
from kds_device.gateway.http_util import error, reason_code
from kds_device.gateway.journal import Journal
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.outbox import Outbox
from kds_device.gateway.outbox_worker import OutboxWorker
from kds_device.gateway.pruner import Pruner
from kds_device.gateway.publisher import MqttPublisher
from kds_device.gateway.services import KEY, Services
from kds_device.gateway.storage import StorageError, StorageUnavailable
from kds_device.gateway.stores import open_store

log = logging.getLogger(__name__)

#: An oversized body up to this size is read and dropped so the client gets its 413 instead
#: of a connection reset mid-upload; a larger one just has its connection closed.
DRAIN_MAX_BYTES = 32 * 1024 * 1024


class Component(Protocol):
    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...


def holder_id() -> str:
    """Names this process in leases and claims: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def broker_accounts(config: GatewayConfig) -> BrokerAccounts | None:
    """Per-screen broker users (dynsec) when configured, else None."""
    mqtt = config.mqtt
    return BrokerAccounts(mqtt) if mqtt.enabled and mqtt.dynsec else None


def enroll_policy(config: GatewayConfig) -> EnrollPolicy:
    e = config.enrollment
    return EnrollPolicy(e.free_attempts, e.backoff_s, e.backoff_max_s)


class Gateway:
    """One process's gateway: services, Flask app and background components."""

    def __init__(self, config: GatewayConfig, background: bool = True) -> None:
        self.config = config
        self.holder = holder_id()
        self.db = open_store(config.database)
        self.journal = Journal(self.db, Notifier(self.db.bell, "journal"))
        self.services = Services(
            config=config,
            journal=self.journal,
            devices=Devices(self.db, broker_accounts(config)),
            outbox_notifier=Notifier(self.db.bell, "outbox"),
            enroll_limits=EnrollLimits(self.db, enroll_policy(config)),
        )
        self.app = build_flask_app(self.services)
        self.components: list[Component] = []
        self._client: DeliverectClient | None = None
        if background:
            self.components = self._background()

    def _background(self) -> list[Component]:
        parts: list[Component] = [Pruner(self.db, self.config.database, self.holder)]
        if self.config.mqtt.enabled:
            parts.append(
                MqttPublisher(
                    self.journal,
                    self.config.mqtt,
                    self.holder,
                    recheck_s=self.config.database.recheck_interval_s,
                )
            )
        if self.config.outbox.enabled:
            dc = self.config.deliverect
            self._client = DeliverectClient(
                dc.base_url, dc.client_id, dc.client_secret, dc.audience, dc.timeout_s
            )
            outbox = Outbox(self.journal, self.holder, self.config.outbox.lease_s)
            parts.append(
                OutboxWorker(
                    outbox, self._client, self.services.outbox_notifier, self.config.outbox
                )
            )
        return parts

    def start(self) -> None:
        for part in self.components:
            part.start()
        log.info(
            "gateway %s ready: db %s, mqtt %s, outbox %s",
            self.holder,
            self.db.describe(),
            "on" if self.config.mqtt.enabled else "off",
            "on" if self.config.outbox.enabled else "off",
        )

    def stopping(self) -> None:
        """Shutdown has begun: held long-polls answer now with what they have.

        Safe in a signal handler (the notifier's lock is re-entrant)."""
        self.services.stopping.set()
        self.journal.notifier.wake_local()

    def stop(self) -> None:
        self.stopping()
        for part in reversed(self.components):
            try:
                part.stop()
            except Exception:
                log.exception("stopping %s failed", type(part).__name__)
        self.journal.notifier.close()
        self.services.outbox_notifier.close()
        if self._client is not None:
            self._client.close()
        self.db.close()


class OrderIdConverter(BaseConverter):
    """An order id in a URL path: any text, ``/`` included (sent as ``/`` or ``%2F``; the
    server sees both decoded). The route's fixed tail (``/status``) ends it."""

    regex = ".+?"
    part_isolating = False


def build_flask_app(found: Services) -> Flask:
    """The WSGI app: both blueprints, a body limit, and JSON for every error."""
    app = Flask("kds_device.gateway")
    app.config["MAX_CONTENT_LENGTH"] = found.config.server.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters["order_id"] = OrderIdConverter
    # "a//b" is an order id, not a path to tidy up with a redirect to "a/b".
    app.url_map.merge_slashes = False
    app.extensions[KEY] = found
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(device_api.blueprint)
    app.register_blueprint(report_api.blueprint)
    install_admin(app, found)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(problem: RequestEntityTooLarge) -> tuple[Response, int]:
        _drain(request.environ, DRAIN_MAX_BYTES)
        limit = found.config.server.max_body_bytes
        log.warning("%s: body over %d bytes refused", request.path, limit)
        return error(413, "request_entity_too_large", f"body larger than {limit} bytes")

    @app.errorhandler(HTTPException)
    def _http_error(problem: HTTPException) -> tuple[Response, int]:
        code = problem.code or 500
        name = reason_code(problem.name or "error")
        response, code = error(code, name, problem.description or name)
        for header, value in problem.get_headers():  # Allow on a 405, WWW-Authenticate, ...
            if header.lower() != "content-type":
                response.headers[header] = value
        return response, code

    @app.errorhandler(StorageUnavailable)
    def _storage(problem: StorageUnavailable) -> tuple[Response, int]:
        # Logged once when the fault begins and once when it ends (StorageHealth).
        log.debug("%s %s: storage unavailable: %s", request.method, request.path, problem)
        return unavailable(problem.kind)

    @app.errorhandler(StorageError)
    def _busy(problem: StorageError) -> tuple[Response, int]:
        # A statement the database refused: ask the caller to come back (Deliverect retries
        # a 503), nothing is lost; the log says what went wrong.
        log.error("database error: %s", problem)
        response, code = error(503, "unavailable", "storage busy; retry shortly")
        response.headers["Retry-After"] = "1"
        return response, code

    @app.errorhandler(Exception)
    def _bug(problem: Exception) -> tuple[Response, int]:
        log.exception("unexpected error")
        return error(500, "internal", "unexpected error; see the gateway log")

    return app


def _drain(environ: dict[str, Any], limit: int) -> None:
    """Read and drop an unread request body of at most ``limit`` bytes."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if not 0 < length <= limit:
        return
    stream = environ["wsgi.input"]
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            break
        length -= len(chunk)


def create_app(config: GatewayConfig, background: bool = True) -> Flask:
    """A started gateway's Flask app (its :class:`Gateway` is ``app.extensions['gateway']``)."""
    # The write path hands the GIL back and forth with every SQLite statement; the default
    # 5 ms switch interval would stretch each transaction (and so every webhook) while other
    # threads parse requests.
    sys.setswitchinterval(float(os.environ.get("KDS_GATEWAY_SWITCH_INTERVAL", "0.0005")))
    gateway = Gateway(config, background=background)
    gateway.app.extensions["gateway"] = gateway
    gateway.start()
    return gateway.app
