"""Where an order's time goes: opt-in trace points for ``bench/latency.py --trace``.

Nothing here changes what the code does: each hook wraps one function, notes the monotonic
time (``time.perf_counter``, the same clock in every process on Linux) under a stage name and
an order id, and calls through. The device's hooks live in the bench's process; the gateway's
are installed by ``bench/trace_site/sitecustomize.py`` in every gunicorn process when
``KDS_LATENCY_TRACE`` names a file, and append ``stage order_id time`` lines to it.

Stages of an order (in path order):

* ``post``: the bench sends the webhook's first byte;
* ``gw_commit``: the gateway's journal transaction committed and the waiters were woken;
* ``answered``: the bench has the 2xx;
* ``pub_read``: the MQTT publisher read the event from the journal (after its wake-up);
* ``pub_acked``: the broker's PUBACK for the batch came back;
* ``lp_read``: a held long-poll read the event from the journal;
* ``mqtt_recv`` / ``http_recv``: the device's paho thread / event poller has the event;
* ``drained``: the main loop took it from the inbox;
* ``applied``: the board has the ticket (before saving);
* ``rendered``: the page's widgets are updated;
* ``textured``: Kivy made the labels' textures (its ``tick_draw``), the frame is drawn next;
* ``drawn``: the frame's GL commands are issued (the swap is next: llvmpipe rasterizes then);
* ``shown``: the frame that draws it has flipped (the bench);
* ``saved``: the board file committed (SQLite, ``synchronous=FULL``);
* ``acked``: the MQTT message was acknowledged to the broker.

Stages of a bump: ``touch`` (the bench), ``outbox_saved`` (the device outbox committed it),
``status_post`` (the sender starts its POST), ``gw_status`` (the gateway journaled and queued
it), ``gw_claim`` (the gateway's outbox worker claimed it), ``deliverect`` (the simulator has
it).
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ENV = "KDS_LATENCY_TRACE"

COMMON = ("drained", "applied", "saved", "rendered", "textured", "drawn", "shown", "acked")
ORDER_STAGES = {
    "mqtt": ("post", "gw_commit", "pub_read", "pub_acked", "mqtt_recv", *COMMON),
    "longpoll": ("post", "gw_commit", "lp_read", "http_recv", *COMMON),
}
BUMP_STAGES = ("touch", "outbox_saved", "status_post", "gw_status", "gw_claim", "deliverect")


class Trace:
    """First time of each (stage, id), from this process and the gateway's trace file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.marks: dict[str, dict[str, float]] = defaultdict(dict)

    def mark(self, stage: str, key: str | None, at: float | None = None) -> None:
        if not key:
            return
        at = time.perf_counter() if at is None else at
        with self._lock:
            self.marks[stage].setdefault(key, at)

    def mark_many(self, stage: str, keys: Iterable[str | None]) -> None:
        at = time.perf_counter()
        for key in keys:
            self.mark(stage, key, at)

    def clear(self) -> None:
        with self._lock:
            self.marks.clear()

    def read_file(self, path: Path) -> None:
        if not path.exists():
            return
        for line in path.read_text().splitlines():
            stage, key, at = line.split(" ")
            self.mark(stage, key, float(at))

    def breakdown(self, ids: Iterable[str], stages: tuple[str, ...]) -> list[dict[str, Any]]:
        """The stages present for ``ids``, in the order they happen (median time since the
        first stage); per consecutive pair: p50/p99 of the step."""
        ids = list(ids)
        first = self.marks.get(stages[0], {})
        offsets = {}
        for stage in stages:
            since = [self.marks[stage][k] - first[k] for k in ids
                     if k in first and k in self.marks.get(stage, {})]  # fmt: skip
            if len(since) >= len(ids) / 2:  # a stage most orders pass through
                offsets[stage] = statistics.median(since)
        present = sorted(offsets, key=offsets.__getitem__)
        rows = []
        for earlier, later in itertools.pairwise(present):
            steps = [
                (self.marks[later][k] - self.marks[earlier][k]) * 1000
                for k in ids
                if k in self.marks[earlier] and k in self.marks[later]
            ]
            rows.append(
                {
                    "step": f"{earlier} -> {later}",
                    "p50_ms": round(statistics.median(steps), 2),
                    "p99_ms": round(_p99(steps), 2),
                    "at_p50_ms": round(offsets[later] * 1000, 2),
                    "n": len(steps),
                }
            )
        return rows


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered) + 0.5) - 1))]


def print_breakdown(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"  {title}: step (p50 / p99 of the step, p50 time since the first stage)")
    for row in rows:
        print(
            f"    {row['step']:<28} {row['p50_ms']:7.2f} / {row['p99_ms']:7.2f} ms"
            f"   at {row['at_p50_ms']:7.2f} ms  (n={row['n']})"
        )


def _wrap(owner: Any, name: str, before: Callable[..., None] | None = None,
          after: Callable[..., None] | None = None) -> None:  # fmt: skip
    """Replace ``owner.name`` with a wrapper calling ``before(*args)`` and
    ``after(result, *args)`` around it."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(*args, **kwargs)
        result = original(*args, **kwargs)
        if after is not None:
            after(result, *args, **kwargs)
        return result

    setattr(owner, name, wrapper)


# ---- the device, in the bench's process ---------------------------------------------------


def install_device_hooks(trace: Trace) -> None:
    from kds_device.adapters import device_outbox, gateway_client, mqtt_feed, store
    from kds_device.runtime import board_core, inbox
    from kds_device.ui import board_screen

    by_mid: dict[int, str] = {}

    def on_message(_self: Any, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            order_id = json.loads(message.payload).get("orderId")
        except ValueError:
            return
        trace.mark("mqtt_recv", order_id)
        by_mid[message.mid] = order_id

    _wrap(mqtt_feed.MqttFeed, "_on_message", before=on_message)
    _wrap(
        gateway_client.GatewayClient,
        "fetch_events",
        after=lambda batch, *_a, **_k: trace.mark_many(
            "http_recv", (e.order_id for e in batch.events)
        ),
    )

    def drained(messages: list[Any], _self: Any) -> None:
        trace.mark_many("drained", _order_ids(messages))

    _wrap(inbox.Inbox, "drain", after=drained)
    _wrap(
        board_core.BoardCore,
        "handle",
        after=lambda _o, _self, message: trace.mark_many("applied", _order_ids([message])),
    )
    _wrap(
        store.BoardStore,
        "save",
        after=lambda _r, _self, tickets, *_a: trace.mark_many(
            "saved", (t.order_id for t in tickets)
        ),
    )
    _wrap(
        board_screen.BoardScreen,
        "render",
        after=lambda _r, _self, changed, *_a, **_k: trace.mark_many("rendered", changed),
    )
    _wrap(
        mqtt_feed._Ack,
        "__call__",
        before=lambda ack: trace.mark("acked", by_mid.get(ack._mid)),
    )
    _wrap(
        device_outbox.OutboxDatabase,
        "add",
        after=lambda _r, _self, change: trace.mark("outbox_saved", change.order_id),
    )
    _wrap(
        gateway_client.GatewayClient,
        "post_status",
        before=lambda _self, change, *_a, **_k: trace.mark("status_post", change.order_id),
    )


def _order_ids(messages: Iterable[Any]) -> list[str]:
    ids = []
    for message in messages:
        for event in getattr(message, "events", ()) or ():
            if event.order_id:
                ids.append(event.order_id)
    return ids


# ---- the gateway, in each gunicorn process (see trace_site/sitecustomize.py) ---------------


def install_gateway_hooks(path: str) -> None:
    from kds_device.gateway import journal, outbox, publisher

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(stage: str, keys: Iterable[str | None]) -> None:
        at = time.perf_counter()
        lines = "".join(f"{stage} {k} {at:.6f}\n" for k in keys if k)
        if lines:
            os.write(fd, lines.encode())

    _wrap(
        journal.Journal,
        "receive_order",
        after=lambda _r, _self, _location, order_id, *_a: write("gw_commit", [order_id]),
    )
    _wrap(
        journal.Journal,
        "published_form_since",
        after=lambda rows, *_a: write("pub_read", (json.loads(r[2]).get("orderId") for r in rows)),
    )

    def published(_r: Any, _self: Any, batch: list[tuple[int, str, str]]) -> None:
        write("pub_acked", (json.loads(r[2]).get("orderId") for r in batch))

    _wrap(publisher.MqttPublisher, "_publish", after=published)
    _wrap(
        journal.Journal,
        "events_after",
        after=lambda batch, *_a: write("lp_read", (e.order_id for e in batch)),
    )
    _wrap(
        outbox,
        "record_device_status",
        after=lambda _r, _journal, _device, order_id, *_a: write("gw_status", [order_id]),
    )
    _wrap(
        outbox.Outbox,
        "claim",
        after=lambda items, *_a: write("gw_claim", (i.order_id for i in items)),
    )
