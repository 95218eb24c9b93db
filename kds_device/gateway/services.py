"""What the request handlers share: the config and the stores, hung on the Flask app."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from kds_device.gateway.config import GatewayConfig
from kds_device.gateway.enroll_limits import EnrollLimits
from kds_device.gateway.notifier import Notifier
from kds_device.gateway.ports import DeviceRegistry, EventJournal

KEY = "kds_gateway"


@dataclass
class Services:
    config: GatewayConfig
    journal: EventJournal
    devices: DeviceRegistry
    #: Poked when a device's status is queued, so the outbox worker sends it at once.
    outbox_notifier: Notifier
    #: The enrollment back-off (wrong codes per client and per code).
    enroll_limits: EnrollLimits
    #: Set at shutdown: long-polls return at once instead of holding a worker thread.
    stopping: threading.Event = field(default_factory=threading.Event)


def services() -> Services:
    """The running gateway's services (inside a request)."""
    found: Services = current_app.extensions[KEY]
    return found
