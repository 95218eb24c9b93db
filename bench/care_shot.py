"""A screenshot of the cleaning lock for docs/screen-care.md, taken with Kivy's
``Window.screenshot`` on the real board (under Xvfb, 800x480 by default: the 7" panel,
where the countdown must still read from 2 m).

Orders arrive, the L key locks the board, two more orders arrive during the lock (shown,
chimed, counted in the panel), the clock moves 8 s: the countdown says 22.
Prints the path, the countdown's digit height in pixels, and a last line of JSON.

    .venv/bin/python bench/care_shot.py [--out docs] [--size 800x480]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xvfb import reexec_under_xvfb  # noqa: E402


def shoot(out: Path, size: tuple[int, int]) -> dict[str, object]:
    from kivy.core.window import Keyboard, Window

    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures import board_app as fixture
    from tests.fixtures.board_app import BoardDriver
    from tests.fixtures.common import FakeTime

    fixture.WINDOW = size
    clock = FakeTime()
    with tempfile.TemporaryDirectory(prefix="kds-shots-") as tmp:
        orders = OrderGenerator(seed=42, clock=lambda: clock.now.wall)
        driver = BoardDriver(Path(tmp), clock, orders)
        app = driver.start()
        driver.add_orders(4)
        driver.advance(150)
        Window.dispatch("on_key_down", Keyboard.keycodes["l"], 0, "l", [])
        Window.dispatch("on_key_up", Keyboard.keycodes["l"], 0)
        driver.add_orders(2)
        driver.advance(8)
        driver.frames(4)
        count = app.care.ids.count
        figures: dict[str, object] = {
            "size": f"{size[0]}x{size[1]}",
            "locked": app.care.state.locked,
            "countdown": app.care.count_text,
            "digit_px": round(count.texture_size[1]),
            "font_px": round(app.care.big_px),
        }
        figures["path"] = str(driver.screenshot(out / "cleaning-lock.png"))
        driver.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="800x480")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    reexec_under_xvfb(f"{width}x{height}x24")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kds_device.ui.window_config import configure_window

    configure_window((width, height), False, mouse=False)
    figures = shoot(Path(args.out), (width, height))
    print(figures["path"])
    print(f"countdown {figures['countdown']!s}: text {figures['digit_px']} px high")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
