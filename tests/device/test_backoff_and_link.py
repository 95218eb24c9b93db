"""Backoff delays and the link state the status bar shows."""

from __future__ import annotations

import random

from kds_device.adapters.backoff import Backoff
from kds_device.adapters.link_monitor import LinkMonitor
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Link, LinkChanged, Message


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial_s=1.0, maximum_s=8.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(6)]
    for delay, nominal in zip(delays, [1, 2, 4, 8, 8, 8], strict=True):
        assert nominal / 2 <= delay <= nominal
    assert backoff.next_delay(at_least=20.0) == 20.0  # Retry-After wins
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def _links(inbox: Inbox[Message]) -> list[tuple[Link, str]]:
    return [(m.link, m.detail) for m in inbox.drain() if isinstance(m, LinkChanged)]


def test_link_follows_the_gateway_first_and_mqtt_second() -> None:
    inbox: Inbox[Message] = Inbox()
    ticks = iter(range(100))
    monitor = LinkMonitor(inbox, mqtt_configured=True, clock=lambda: float(next(ticks)))
    back: list[str] = []
    monitor.on_reachable(lambda: back.append("back"))
    monitor.announce()
    assert _links(inbox) == [(Link.OFFLINE, "connecting to the gateway")]
    monitor.mqtt_up()  # the broker alone is not the gateway
    assert _links(inbox) == []
    monitor.http_ok()
    assert _links(inbox) == [(Link.LIVE_MQTT, "")]
    monitor.http_ok()  # no news, no message
    monitor.mqtt_down("reconnecting")
    assert _links(inbox) == [(Link.LIVE_HTTP, "broker: reconnecting")]
    monitor.http_failed("connection refused")
    assert _links(inbox) == [(Link.OFFLINE, "connection refused")]
    monitor.http_ok()
    assert _links(inbox) == [(Link.LIVE_HTTP, "broker: reconnecting")]
    assert back == ["back", "back"]


def test_since_is_when_the_state_began() -> None:
    inbox: Inbox[Message] = Inbox()
    now = [100.0]
    monitor = LinkMonitor(inbox, mqtt_configured=False, clock=lambda: now[0])
    monitor.http_ok()
    now[0] = 110.0
    monitor.http_ok()  # the last answer
    now[0] = 130.0
    monitor.http_failed("timed out")  # noticed later: offline counts from the last answer
    now[0] = 160.0
    monitor.http_failed("timed out")
    now[0] = 170.0
    monitor.http_ok()
    changes = [m for m in inbox.drain() if isinstance(m, LinkChanged)]
    assert [(c.link, c.since_mono) for c in changes] == [
        (Link.LIVE_HTTP, 100.0),
        (Link.OFFLINE, 110.0),
        (Link.LIVE_HTTP, 170.0),
    ]


def test_never_reached_counts_from_the_start() -> None:
    inbox: Inbox[Message] = Inbox()
    monitor = LinkMonitor(inbox, mqtt_configured=False, clock=lambda: 5.0)
    monitor.http_failed("connection refused")
    monitor.announce()
    (change,) = [m for m in inbox.drain() if isinstance(m, LinkChanged)]
    assert (change.link, change.since_mono, change.detail) == (
        Link.OFFLINE,
        5.0,
        "connection refused",
    )
