"""One link state for the status bar, derived from both feeds.

The gateway is the truth (it journals every order), so the screen is live only while HTTP
calls to it succeed; MQTT decides only *how* it is live. The event poller and the outbox
sender report every HTTP success or failure, the MQTT feed reports connects and disconnects;
this class posts a :class:`LinkChanged` to the inbox whenever the derived state changes, and
tells interested parties (the outbox sender) when the gateway comes back. An OFFLINE state's
``since_mono`` is the last successful answer from the gateway (the app shows the banner once
that is ``offline_banner_s`` ago); a live state's is when it began.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Link, LinkChanged, Message

log = logging.getLogger(__name__)


class LinkMonitor:
    """Thread-safe: every method may be called from any worker thread."""

    def __init__(
        self,
        inbox: Inbox[Message],
        mqtt_configured: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inbox = inbox
        self._clock = clock
        self._lock = threading.Lock()
        self._mqtt_configured = mqtt_configured
        self._http_up = False
        self._removed = False
        self._mqtt_up = False
        self._http_detail = "connecting to the gateway"
        self._mqtt_detail = ""
        self._link = Link.OFFLINE
        self._since = clock()
        self._last_contact: float | None = None
        self._on_reachable: list[Callable[[], None]] = []
        self._on_contact: list[Callable[[], None]] = []

    # ---- reading ------------------------------------------------------------------------

    @property
    def link(self) -> Link:
        with self._lock:
            return self._link

    @property
    def mqtt_live(self) -> bool:
        """True while the broker connection is up (the poller then only checks in)."""
        with self._lock:
            return self._mqtt_up

    @property
    def mqtt_detail(self) -> str:
        """Why MQTT is not live ("" while it is)."""
        with self._lock:
            return self._mqtt_detail

    def on_reachable(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the reporting thread) each time the gateway comes back."""
        with self._lock:
            self._on_reachable.append(callback)

    def on_contact(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (on the reporting thread) after every successful HTTP call."""
        with self._lock:
            self._on_contact.append(callback)

    def announce(self) -> None:
        """Post the current state (at start, so the status bar never shows a stale link)."""
        with self._lock:
            message = LinkChanged(self._link, self._since, self._detail())
        self._inbox.post(message)

    # ---- reports from the feeds ---------------------------------------------------------

    def http_ok(self) -> None:
        callbacks: list[Callable[[], None]] = []
        with self._lock:
            self._last_contact = self._clock()
            came_back = not self._http_up
            self._http_up = True
            self._removed = False
            self._http_detail = ""
            if came_back:
                callbacks = list(self._on_reachable)
            callbacks += self._on_contact
            message = self._update()
        self._post(message)
        for callback in callbacks:
            callback()

    def http_failed(self, detail: str, removed: bool = False) -> None:
        """An HTTP call failed; ``removed`` when the gateway refused the token itself."""
        with self._lock:
            self._http_up = False
            self._removed = removed
            self._http_detail = detail
            message = self._update()
        self._post(message)

    def mqtt_up(self) -> None:
        with self._lock:
            self._mqtt_up = True
            self._mqtt_detail = ""
            message = self._update()
        self._post(message)

    def mqtt_down(self, detail: str) -> None:
        with self._lock:
            self._mqtt_up = False
            self._mqtt_detail = detail
            message = self._update()
        self._post(message)

    # ---- internals ----------------------------------------------------------------------

    def _derive(self) -> Link:
        if self._removed:
            return Link.REMOVED
        if not self._http_up:
            return Link.OFFLINE
        return Link.LIVE_MQTT if self._mqtt_up else Link.LIVE_HTTP

    def _detail(self) -> str:
        if self._link in (Link.OFFLINE, Link.REMOVED):
            return self._http_detail
        if self._link is Link.LIVE_HTTP and self._mqtt_configured:
            return f"broker: {self._mqtt_detail or 'connecting'}"
        return ""

    def _update(self) -> LinkChanged | None:
        """The message to post when the derived link changed (called under the lock)."""
        link = self._derive()
        if link is self._link:
            return None
        self._link = link
        self._since = self._clock()
        if link is Link.OFFLINE and self._last_contact is not None:
            # Offline counts from the last answer: the banner's "silent for N s" is the truth,
            # and noticing the loss a few seconds late does not delay the banner.
            self._since = self._last_contact
        detail = self._detail()
        log.info("link: %s%s", link.value, f" ({detail})" if detail else "")
        return LinkChanged(link, self._since, detail)

    def _post(self, message: LinkChanged | None) -> None:
        if message is not None:
            self._inbox.post(message)
