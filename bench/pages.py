"""Tickets per page: the demo's prefilled board laid out at the three screen sizes.

For each size it starts the real board app (in a fresh process: one window each), puts the
demo's prefill on it (``--prefill`` orders, ``--seed``) and prints how many tickets start on
each page and how full the columns are. Last line: one JSON object.
Usage: ``python bench/pages.py [--prefill 8] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import reexec_under_xvfb  # noqa: E402  (bench/ is on the path as the script's dir)

SIZES = ((800, 480), (1280, 800), (1920, 1080))


def measure(size: tuple[int, int], prefill: int, seed: int) -> dict[str, Any]:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kds_device.ui.window_config import configure_window

    configure_window(size, fullscreen=False, mouse=False)
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kds_device.board_setup import build_board_app
    from kds_device.config import DeviceConfig
    from kds_device.demo import prefill as demo_prefill
    from kds_device.domain.clock import Instant
    from kds_device.runtime.inbox import Inbox
    from kds_device.runtime.messages import Link, LinkChanged
    from kds_device.ui.sound import Sounds

    now = Instant(datetime(2026, 11, 22, 18, 0, tzinfo=UTC), 100000.0)

    class Sink:
        def submit(self, change: Any) -> None:
            pass

    EventLoop.ensure_window()
    Window.size = size
    with tempfile.TemporaryDirectory() as tmp:
        app = build_board_app(
            DeviceConfig(),
            Inbox(),
            Sink(),
            data_dir=Path(tmp),
            now=lambda: now,
            link=LinkChanged(Link.DEMO, 0.0),
            sounds=Sounds(enabled=False),
        )
        app.preload = demo_prefill(prefill, seed, now.wall)
        app._run_prepare()
        for _ in range(3):
            EventLoop.idle()
        board = app.board
        spec = board.layout_spec
        per_page: list[int] = []
        fill: list[float] = []
        for page in board.pages():
            per_page.append(sum(1 for col in page for seg in col if not seg.continued))
            for column in page:
                used = 0
                for seg in column:
                    ticket = board.ticket(seg.order_id)
                    if ticket is not None:
                        used += seg.rows(spec, board._rows_of(ticket))
                fill.append(used / spec.rows)
        app.dispatch("on_stop")
    return {
        "size": f"{size[0]}x{size[1]}",
        "tickets": len(board.open_tickets()),
        "per_page": per_page,
        "columns": spec.columns,
        "rows": spec.rows,
        "column_fill_pct": round(100 * sum(fill[:-1]) / max(1, len(fill) - 1)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefill", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        width, height = (int(v) for v in args.one.split("x"))
        print(json.dumps(measure((width, height), args.prefill, args.seed)))
        return 0
    reexec_under_xvfb("1920x1080x24")
    results = {}
    options = ["--prefill", str(args.prefill), "--seed", str(args.seed)]
    for width, height in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--one", f"{width}x{height}", *options],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        results[row["size"]] = row
        print(
            f"{row['size']:>9}: {row['tickets']} tickets, per page {row['per_page']},"
            f" {row['columns']} columns x {row['rows']} rows,"
            f" columns {row['column_fill_pct']} % full (all but the last)"
        )
    print(json.dumps({size: r["per_page"] for size, r in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
