"""Where a gateway worker's time goes under ``bench/chain.py --timing DIR``.

Installed in each gunicorn worker (after the fork) by ``bench/chain_site/sitecustomize.py``:
wraps a webhook's journal write, each SQL statement, the wait for a pooled connection and each
commit of the PostgreSQL store, and every 3 s writes ``DIR/timing-<pid>.txt``: per name the
count, total seconds, p50 and p99. Wall-clock times (they include waiting for the CPU on a
loaded machine); measuring costs a few microseconds per call.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_times: dict[str, list[float]] = defaultdict(list)


def _record(name: str, seconds: float) -> None:
    with _lock:
        _times[name].append(seconds)


def _timed(owner: Any, attribute: str, name: Callable[[tuple[Any, ...]], str]) -> None:
    original = getattr(owner, attribute)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _record(name(args), time.perf_counter() - started)

    setattr(owner, attribute, wrapper)


def _write(directory: Path) -> None:
    while True:
        time.sleep(3)
        with _lock:
            found = {name: sorted(times) for name, times in _times.items()}
        lines = []
        for name, times in sorted(found.items(), key=lambda item: -sum(item[1])):
            n = len(times)
            lines.append(
                f"{sum(times):8.2f} s  n={n:<6} p50={times[n // 2] * 1000:7.1f} ms"
                f"  p99={times[max(0, int(n * 0.99) - 1)] * 1000:7.1f} ms  {name}"
            )
        (directory / f"timing-{os.getpid()}.txt").write_text("\n".join(lines) + "\n")


def _start(directory: Path) -> None:
    from kds_device.gateway import journal, pg_store

    _timed(journal.Journal, "receive_order", lambda args: "webhook: journal.receive_order")
    _timed(pg_store.PgTransaction, "execute", lambda args: "sql: " + " ".join(args[1].split())[:70])
    borrow = pg_store.PostgresStore.connection
    write = pg_store.PostgresStore.write

    @contextlib.contextmanager
    def connection(self: Any, timeout: float | None = None) -> Iterator[Any]:
        started = time.perf_counter()
        with borrow(self, timeout) as conn:
            _record("pool: wait for a connection", time.perf_counter() - started)
            yield conn

    @contextlib.contextmanager
    def timed_write(self: Any) -> Iterator[Any]:
        with write(self) as tx:
            yield tx
            committing = time.perf_counter()
        _record("commit (durable)", time.perf_counter() - committing)

    pg_store.PostgresStore.connection = connection  # type: ignore[method-assign]
    pg_store.PostgresStore.write = timed_write  # type: ignore[method-assign]
    threading.Thread(target=_write, args=(directory,), name="chain-timing", daemon=True).start()


def install(directory: str) -> None:
    """Time each gunicorn worker forked from this process (the master imports nothing yet)."""
    where = Path(directory)
    where.mkdir(parents=True, exist_ok=True)
    os.register_at_fork(after_in_child=lambda: _start(where))
