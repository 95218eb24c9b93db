"""Screenshots of the admin page from Debian's headless chromium: ``docs/admin.png`` (the
overview) and ``docs/admin-screens.png`` (the screens list).

Starts a real ``kds-gateway serve`` on a throwaway SQLite file, registers two locations,
enrolls four screens (two sending heartbeats, one never heard from, one revoked) and sends the
simulator's orders through the signed webhook. So the chart has some history to show, each
demo order's journal time is then moved back into the last six hours (in this throwaway
database only; ``_created`` is set to match, a second or two earlier), and the two Soho
screens report an order-to-screen delay for each of Soho's orders in their heartbeats
(``shown_ms``, demo figures: these screens are HTTP clients here, not boards). Logs in through
the form like an operator and saves the pictures. Last line: one JSON object.
Usage: ``python bench/admin_shot.py [--orders 90] [--seed 7] [--out docs]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from werkzeug.security import generate_password_hash

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_procs import free_port, wait_for_port  # noqa: E402  (bench/ is on the path)

from kds_device.gateway import hmac_auth  # noqa: E402
from kds_device.sim.orders import OrderGenerator  # noqa: E402

PASSWORD = "bench-admin-password"
SECRET = "bench-hmac-secret"
LOCATIONS = (("loc-soho-01", "Soho kitchen"), ("loc-camden-02", "Camden kitchen"))
GATEWAY_BIN = Path(sys.executable).with_name("kds-gateway")


def _config(workdir: Path, port: int) -> Path:
    path = workdir / "gateway.toml"
    path.write_text(
        f'[server]\nbind = "127.0.0.1:{port}"\npublic_base_url = "http://127.0.0.1:{port}"\n'
        f"workers = 1\n"
        f'[database]\npath = "{workdir / "gateway.db"}"\n'
        f'[deliverect]\nhmac_secret = "{SECRET}"\n[outbox]\nenabled = false\n'
        f'[admin]\npassword_hash = "{generate_password_hash(PASSWORD)}"\n'
    )
    return path


class Site:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def webhook(self, path: str, body: Any, refused: bool = False) -> None:
        raw = json.dumps(body).encode()
        headers = {
            "Content-Type": "application/json",
            hmac_auth.HEADER: hmac_auth.sign(raw, SECRET),
        }
        answer = self.http.post(f"{self.base}{path}", data=raw, headers=headers, timeout=10)
        if refused != (400 <= answer.status_code < 500):
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")

    def status(self, token: str, order_id: str, status: int) -> None:
        answer = self.http.post(
            f"{self.base}/api/v1/orders/{order_id}/status",
            json={"status": status, "key": f"bench-{order_id}-{status}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()

    def enroll(self, code: str, name: str) -> dict[str, Any]:
        answer = self.http.post(
            f"{self.base}/api/v1/enroll",
            json={"code": code, "name": name, "station": "Kitchen"},
            timeout=10,
        )
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def heartbeat(self, token: str, **fields: Any) -> None:
        body = {
            "version": "0.1.0",
            "role": "all",
            "stations": [],
            "link": "mqtt",
            "bumps_waiting": 0,
            "last_seq": 0,
            "clock_synced": True,
            "cpu_temp_c": 52.0,
        }
        body.update(fields)
        answer = self.http.post(
            f"{self.base}/api/v1/heartbeat",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()


def _fill(site: Site, db: Path, orders: int, seed: int, config: Path) -> None:
    rnd = random.Random(seed)
    now = time.time()
    for location, name in LOCATIONS:
        site.webhook(
            "/deliverect/register",
            {"accountId": "acc-demo", "locationId": location, "externalReference": name},
        )
    moved: list[tuple[float, float, str]] = []
    # Busier in the last two hours, like a dinner service; sent oldest first.
    backs = sorted(
        (min(rnd.expovariate(1 / 5400), 6 * 3600 - 120) for _ in range(orders)), reverse=True
    )
    for n, back in enumerate(backs):
        location = LOCATIONS[n % 2][0]
        arrived = now - back
        delay = rnd.uniform(0.4, 2.8)
        created = datetime.fromtimestamp(arrived - delay, tz=UTC)
        generator = OrderGenerator(seed=seed + n, location=location, clock=lambda c=created: c)
        order = generator.order()
        site.webhook(f"/deliverect/{location}/orders", order)
        moved.append((arrived, arrived, order["orderId"]))
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "UPDATE events SET created = ? WHERE order_id = ?",
            [(at, order_id) for at, _, order_id in moved],
        )
        conn.executemany(
            "UPDATE orders SET created = ? WHERE order_id = ?",
            [(at, order_id) for at, _, order_id in moved],
        )
    # The newest few as they are (they show in the live list on top).
    generator = OrderGenerator(seed=seed + 100_000, location=LOCATIONS[0][0])
    for _ in range(3):
        site.webhook(f"/deliverect/{LOCATIONS[0][0]}/orders", generator.order())
    screens = []
    for location, screen in (
        (LOCATIONS[0][0], "Grill"),
        (LOCATIONS[0][0], "Pass"),
        (LOCATIONS[1][0], "Kitchen"),
        (LOCATIONS[1][0], "Old tablet"),
    ):
        code = subprocess.run(
            [str(GATEWAY_BIN), "--config", str(config), "enroll-code", "--location", location],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        screens.append(site.enroll(code, f"{screen} screen"))
    # Some tickets bumped at Soho (for the speed table; the outbox is off, so they wait there)
    # and two bodies with something wrong: one flagged (journaled), one refused.
    for _, _, order_id in moved[::2][:20]:
        site.status(screens[0]["token"], order_id, 70)
    site.webhook(f"/deliverect/{LOCATIONS[1][0]}/orders", {"orderId": "odd-1", "items": "none"})
    site.webhook(f"/deliverect/{LOCATIONS[1][0]}/orders", {"items": []}, refused=True)
    with sqlite3.connect(db) as conn:  # where Soho's journal is: one screen caught up
        head = int(
            conn.execute(
                "SELECT last_seq FROM locations WHERE id = ?", (LOCATIONS[0][0],)
            ).fetchone()[0]
        )
        shown = [
            int(row[0])
            for row in conn.execute(
                "SELECT seq FROM events WHERE location_id = ? AND type = 'order.received'"
                " ORDER BY seq",
                (LOCATIONS[0][0],),
            )
        ]
    # Both Soho screens report their order-to-screen delays through the heartbeat, 100 at
    # most a beat, as a board does (demo figures: MQTT tens of ms, the long-poll a little more).
    for token, fields, spread in (
        (screens[0]["token"], {"last_seq": head, "cpu_temp_c": 58.0}, (40, 260)),
        (
            screens[1]["token"],
            {"link": "http", "bumps_waiting": 2, "last_seq": head - 2, "role": "expo"},
            (90, 650),
        ),
    ):
        samples = [
            {"seq": seq, "ms": round(rnd.triangular(*spread, spread[0] * 2))} for seq in shown
        ]
        for start in range(0, len(samples), 100):
            site.heartbeat(token, shown_ms=samples[start : start + 100], **fields)
    subprocess.run(
        [str(GATEWAY_BIN), "--config", str(config), "devices", "revoke", screens[3]["deviceId"]],
        capture_output=True,
        check=True,
        timeout=60,
    )


PAGES = (("/admin/", "admin.png"), ("/admin/screens", "admin-screens.png"))
#: ``--all DIR``: every page, for a look (not for docs/).
ALL_PAGES = (
    *PAGES,
    ("/admin/webhooks", "admin-webhooks.png"),
    ("/admin/outbox", "admin-outbox.png"),
    ("/admin/rules", "admin-rules.png"),
    ("/admin/speed?by=channel", "admin-speed.png"),
)


def _shoot(base: str, out: Path, pages: tuple[tuple[str, str], ...] = PAGES) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.fixtures.admin import _chrome

    shots: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kds-chromium-") as profile:
        driver = _chrome(Path(profile))
        try:
            driver.set_window_size(1280, 900)
            driver.get(f"{base}/admin/login")
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            WebDriverWait(driver, 60).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "nav a.here")
            )
            for path, name in pages:
                driver.get(f"{base}{path}")
                WebDriverWait(driver, 60).until(
                    lambda d: d.find_elements(By.CSS_SELECTOR, "main .card")
                )
                height = int(driver.execute_script("return document.documentElement.scrollHeight"))
                # The whole page, not just the window (chromium's DevTools capture).
                shot = driver.execute_cdp_cmd(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1},
                    },
                )
                target = out / name
                target.write_bytes(base64.b64decode(shot["data"]))
                shots[name] = {"height": height, "bytes": target.stat().st_size}
        finally:
            driver.quit()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--all", action="store_true", help="every page (look at them in --out)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kds-admin-shot-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        config = _config(workdir, port)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_GATEWAY_")}
        with (workdir / "gateway.log").open("wb") as log:
            process = subprocess.Popen(
                [str(GATEWAY_BIN), "--config", str(config), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            wait_for_port(port, process, "kds-gateway")
            base = f"http://127.0.0.1:{port}"
            _fill(Site(base), workdir / "gateway.db", args.orders, args.seed, config)
            shots = _shoot(base, args.out, ALL_PAGES if args.all else PAGES)
        finally:
            process.terminate()
            process.wait(timeout=30)
    for name, shot in shots.items():
        print(f"{name}: page height {shot['height']} px, {shot['bytes']} bytes")
    print(
        json.dumps(
            {
                "shots": shots,
                "orders": args.orders + 3,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
