"""Chain benchmark: PostgreSQL, two gateway processes, Mosquitto, many locations and screens.

Starts a PostgreSQL 15 cluster (durable defaults) in a temp dir, Mosquitto, and two
``kds-gateway serve`` processes on that one database (as two hosts behind a load balancer),
registers L locations and enrolls S screens spread over them; half the screens long-poll the
gateways (alternating between the two), half subscribe to their location's topic over MQTT,
simulated in a few processes. Signed order webhooks then go out at a steady total rate for D
seconds, alternating between the gateways. Each screen notes when each order first reaches
it; afterwards every acknowledged order must have reached every screen of its location.

    .venv/bin/python bench/chain.py [--locations 200] [--screens 1000] [--rate 200]
        [--seconds 20] [--timing DIR]

``--timing DIR``: each gateway worker writes where its time went (``bench/chain_timing.py``).

The last line is one JSON object: ``webhooks_per_s`` (acknowledged, at the offered rate),
``order_to_device_p99_ms`` (webhook sent to screen, over every screen and order), ``screens``,
``lost`` (acknowledged orders a screen of their location never got) and ``duplicated`` (orders
a screen got twice with the same seq).
"""

from __future__ import annotations

import argparse
import getpass
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kds_device.gateway.config import DatabaseConfig
from kds_device.gateway.devices import Devices
from kds_device.gateway.hmac_auth import HEADER, sign
from kds_device.gateway.stores import open_store
from kds_device.sim.orders import OrderGenerator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_procs import free_port, wait_for_port  # noqa: E402  (bench/, the script's folder)

from tests.fixtures.pg_cluster import PostgresCluster  # noqa: E402  (the repository's root)

SECRET = "chain-secret"
PLACEHOLDER = "order-id-goes-here-24chr"
#: Keep-alive clients per sender process (a webhook waits for its answer before the next).
THREADS_PER_SENDER = 8
#: After the last webhook, how long the screens keep listening before they report.
DRAIN_S = 10.0


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        "max_queued_messages 100000\n"
    )
    process = subprocess.Popen(
        ["/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "mosquitto")
    return process, port


def start_gateway(
    workdir: Path, name: str, url: str, mqtt_port: int, threads: int, timing: str = ""
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    home = workdir / name
    home.mkdir()
    config = home / "gateway.toml"
    config.write_text(
        f'[server]\nbind = "127.0.0.1:{port}"\npublic_base_url = "http://127.0.0.1:{port}"\n'
        f"workers = 1\nthreads = {threads}\n"
        f'[database]\npath = "{home / "unused.db"}"\nurl = "{url}"\n'
        f'[deliverect]\nhmac_secret = "{SECRET}"\n[outbox]\nenabled = false\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\n'
        f'client_id = "kds-gateway-{name}"\n'
    )
    log = (home / "gateway.log").open("wb")
    env = dict(os.environ)
    if timing:  # each worker times its storage work (bench/chain_timing.py)
        env["KDS_CHAIN_TIMING"] = timing
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(ROOT / "bench" / "chain_site"), env.get("PYTHONPATH", "")])
        )
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("kds-gateway")), "--config", str(config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=env,
    )
    wait_for_port(port, process, f"kds-gateway {name}")
    return process, port


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, SECRET)},
    )
    response = conn.getresponse()
    return response.status, response.read()


# ---- screens ------------------------------------------------------------------------------


def long_poll_screens(
    screens: list[tuple[str, str, int]], stop: Any, ready: Any, results: Any
) -> None:
    """One process: a thread per long-polling screen (location, token, gateway port)."""
    seen: list[dict[str, Any]] = [{} for _ in screens]

    def run(index: int, location: str, token: str, port: int) -> None:
        after = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = seen[index]
        while not stop.is_set():
            try:
                conn.request(
                    "GET",
                    f"/api/v1/events?after={after}&wait=5",
                    headers={"Authorization": f"Bearer {token}"},
                )
                response = conn.getresponse()
                body = json.loads(response.read())
            except (OSError, http.client.HTTPException, ValueError):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                time.sleep(0.2)
                continue
            now = time.time()
            for event in body.get("events", []):
                key = event["orderId"]
                if key in mine:
                    mine[key] = (mine[key][0], mine[key][1] + 1)
                else:
                    mine[key] = (now, 1)
                after = max(after, event["seq"])
        conn.close()

    threads = [
        threading.Thread(target=run, args=(i, *screen), daemon=True)
        for i, screen in enumerate(screens)
    ]
    for thread in threads:
        thread.start()
    ready.put(len(threads))
    stop.wait()
    for thread in threads:
        thread.join(40)
    results.put([(screens[i][0], s) for i, s in enumerate(seen)])


def mqtt_screens(
    locations: list[str], broker_port: int, stop: Any, ready: Any, results: Any
) -> None:
    """One process: an MQTT client per screen, each on its location's topic."""
    seen: list[dict[str, Any]] = [{} for _ in locations]
    clients = []
    subscribed = threading.Semaphore(0)
    for index in range(len(locations)):

        def on_message(client: Any, userdata: int, message: Any) -> None:
            event = json.loads(message.payload)
            mine = seen[userdata]
            key = (event["orderId"], event["seq"])
            now = time.time()
            mine[key] = (mine[key][0], mine[key][1] + 1) if key in mine else (now, 1)

        def on_connect(client: Any, userdata: int, flags: Any, reason: Any, props: Any) -> None:
            client.subscribe(f"kds/{locations[userdata]}/events", qos=1)

        def on_subscribe(client: Any, userdata: int, mid: Any, codes: Any, props: Any) -> None:
            subscribed.release()

        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"chain-screen-{os.getpid()}-{index}",
            userdata=index,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        client.on_message = on_message
        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.connect("127.0.0.1", broker_port, keepalive=60)
        client.loop_start()
        clients.append(client)
    for _ in clients:
        subscribed.acquire(timeout=60)
    ready.put(len(clients))
    stop.wait()
    for client in clients:
        client.disconnect()
        client.loop_stop()
    merged = []
    for index, location in enumerate(locations):
        by_order: dict[str, tuple[float, int]] = {}
        for (order_id, _seq), (first, count) in seen[index].items():
            if order_id in by_order:
                # the same order under another seq would be a journal bug, not a duplicate
                by_order[order_id] = (min(first, by_order[order_id][0]), by_order[order_id][1])
            else:
                by_order[order_id] = (first, count)
        merged.append((location, by_order))
    results.put(merged)


# ---- webhooks -----------------------------------------------------------------------------


def sender(
    ports: list[int],
    locations: list[str],
    rate: float,
    start_at: float,
    seconds: float,
    index: int,
    results: Any,
) -> None:
    """Posts orders at ``rate``/s (this process's share) from ``THREADS_PER_SENDER`` keep-alive
    clients, round-robin over locations and gateways (a load balancer); reports (order id,
    location, sent time, status) of each."""
    gen = OrderGenerator(seed=index, location=locations[0])
    template = json.dumps(gen.order(orderId=PLACEHOLDER)).encode()
    sent: list[tuple[str, str, float, int]] = []
    lock = threading.Lock()
    share = rate / THREADS_PER_SENDER

    def run(thread: int) -> None:
        port = ports[(index + thread) % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        count = 0
        while True:
            due = start_at + (count + thread / THREADS_PER_SENDER) / share
            if due > start_at + seconds:
                break
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            serial = count * THREADS_PER_SENDER + thread
            location = locations[(serial * 7 + index) % len(locations)]
            order_id = f"{index:04x}{serial:020x}"
            body = template.replace(PLACEHOLDER.encode(), order_id.encode(), 1)
            started = time.time()
            try:
                status, _ = post(conn, f"/deliverect/{location}/orders", body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append((order_id, location, started, status))
            count += 1
        conn.close()
        with lock:
            sent.extend(mine)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS_PER_SENDER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(sent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="webhooks per second offered")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--screen-processes", type=int, default=2)
    parser.add_argument(
        "--timing",
        default="",
        help="directory for each gateway worker's timings (see chain_timing)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kds-chain-"))
    cluster = PostgresCluster.in_temp_dir("kds-chain-pg-", durable=True)
    cluster.start()
    url = cluster.create_database()
    broker, mqtt_port = start_mosquitto(workdir)
    long_pollers = args.screens // 2
    threads = long_pollers // 2 + 64  # each gateway holds half the long-polls, plus webhooks
    gateways = [start_gateway(workdir, n, url, mqtt_port, threads, args.timing) for n in ("a", "b")]
    ports = [port for _, port in gateways]
    children: list[multiprocessing.Process] = []
    try:
        locations = [f"{i:024x}" for i in range(1, args.locations + 1)]
        conn = http.client.HTTPConnection("127.0.0.1", ports[0], timeout=30)
        for location in locations:
            body = json.dumps({"accountId": "a", "locationId": location, "externalReference": "b"})
            assert post(conn, "/deliverect/register", body.encode())[0] == 200
        conn.close()
        store = open_store(DatabaseConfig(url=url))
        devices = Devices(store)
        tokens: list[tuple[str, str]] = []
        for index in range(long_pollers):
            location = locations[index % len(locations)]
            enrolled = devices.enroll(devices.mint_code(location, 600), f"s{index}", "k")
            assert enrolled is not None
            tokens.append((location, enrolled.token))
        store.close()
        mqtt_locations = [locations[i % len(locations)] for i in range(args.screens - long_pollers)]
        setup_s = 15.0 + args.screens / 50
        stop = multiprocessing.Event()
        ready: Any = multiprocessing.Queue()
        screen_results: Any = multiprocessing.Queue()
        split = max(1, args.screen_processes)
        for part in range(split):
            polls = [
                (location, token, ports[i % 2])
                for i, (location, token) in enumerate(tokens)
                if i % split == part
            ]
            children.append(
                multiprocessing.Process(
                    target=long_poll_screens, args=(polls, stop, ready, screen_results)
                )
            )
            subs = [loc for i, loc in enumerate(mqtt_locations) if i % split == part]
            children.append(
                multiprocessing.Process(
                    target=mqtt_screens, args=(subs, mqtt_port, stop, ready, screen_results)
                )
            )
        for child in children:
            child.start()
        screens = sum(ready.get(timeout=setup_s + 60) for _ in children)
        time.sleep(2.0)  # every long-poll is held
        start_at = time.time() + 0.5
        sent_results: Any = multiprocessing.Queue()
        senders = [
            multiprocessing.Process(
                target=sender,
                args=(
                    ports,
                    locations,
                    args.rate / args.senders,
                    start_at,
                    args.seconds,
                    i,
                    sent_results,
                ),
            )
            for i in range(args.senders)
        ]
        for process in senders:
            process.start()
        sent = [row for _ in senders for row in sent_results.get(timeout=args.seconds + 120)]
        elapsed = max(row[2] for row in sent) - start_at
        for process in senders:
            process.join(10)
        time.sleep(DRAIN_S)  # what is still on its way reaches the screens
        stop.set()
        seen = [row for _ in children for row in screen_results.get(timeout=120)]
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
        for process, _ in gateways:
            os.killpg(process.pid, signal.SIGTERM)
        for process, _ in gateways:
            process.wait(30)
        broker.send_signal(signal.SIGTERM)
        broker.wait(10)
        cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)
    acknowledged = {
        order_id: (location, at) for order_id, location, at, status in sent if status == 200
    }
    by_location: dict[str, list[str]] = {}
    for order_id, (location, _) in acknowledged.items():
        by_location.setdefault(location, []).append(order_id)
    latencies: list[float] = []
    lost = duplicated = 0
    for location, got in seen:
        for order_id in by_location.get(location, []):
            if order_id not in got:
                lost += 1
                continue
            first, count = got[order_id]
            latencies.append(first - acknowledged[order_id][1])
            duplicated += count - 1
    latencies.sort()
    result: dict[str, Any] = {
        "webhooks_per_s": round(len(acknowledged) / elapsed, 1) if elapsed > 0 else 0.0,
        "offered_per_s": args.rate,
        "webhook_errors": len(sent) - len(acknowledged),
        "order_to_device_p50_ms": round(statistics.median(latencies) * 1000, 1)
        if latencies
        else None,
        "order_to_device_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)
        if latencies
        else None,
        "deliveries": len(latencies),
        "screens": screens,
        "locations": args.locations,
        "lost": lost,
        "duplicated": duplicated,
        "seconds": args.seconds,
    }
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
