"""Ingest benchmark: signed order webhooks against the gateway as it runs in production.

Starts Mosquitto and ``kds-gateway serve`` (gunicorn gthread, MQTT publisher and outbox on)
on SQLite (WAL + synchronous=FULL) or, with ``--store postgresql``, on a PostgreSQL 15 cluster
started for the run in a temp dir (its durable defaults: fsync, synchronous_commit), then N
concurrent keep-alive clients post unique signed orders for D seconds on loopback. The last
line printed is one JSON object with the figures.

    .venv/bin/python bench/gateway_ingest.py [--clients 8] [--seconds 20] [--workers N]
        [--store sqlite|postgresql]

Workers and threads default to the gateway's own defaults (server.workers, server.threads).
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
import time
from pathlib import Path
from typing import Any

import psutil

from kds_device.gateway.config import DatabaseConfig, ServerConfig
from kds_device.gateway.hmac_auth import HEADER, sign
from kds_device.gateway.stores import open_store
from kds_device.sim.orders import OrderGenerator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_procs import free_port, wait_for_port  # noqa: E402  (bench/, the script's folder)

from tests.fixtures.pg_cluster import PostgresCluster  # noqa: E402  (the repository's root)

LOCATION = "65f0c1a2b3c4d5e6f7a8b9d1"
SECRET = "bench-secret"
PLACEHOLDER = "order-id-goes-here-24chr"


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        f"persistence true\npersistence_location {workdir}/\n"
    )
    process = subprocess.Popen(
        ["/usr/sbin/mosquitto", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process, "mosquitto")
    return process, port


def start_gateway(
    workdir: Path, mqtt_port: int, workers: int | None, threads: int | None, url: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "gateway.toml"
    config.write_text(
        f'[server]\nbind = "127.0.0.1:{port}"\npublic_base_url = "http://127.0.0.1:{port}"\n'
        + (f"workers = {workers}\n" if workers else "")
        + (f"threads = {threads}\n" if threads else "")
        + f'[database]\npath = "{workdir / "gateway.db"}"\nurl = "{url}"\n'
        f'[deliverect]\nhmac_secret = "{SECRET}"\nbase_url = "http://127.0.0.1:9"\n'
        'client_id = "bench"\nclient_secret = "bench"\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\n'
    )
    gateway_bin = Path(sys.executable).with_name("kds-gateway")
    log = (workdir / "gateway.log").open("wb")
    process = subprocess.Popen(
        [str(gateway_bin), "--config", str(config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process, "kds-gateway")
    return process, port


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> int:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, SECRET)},
    )
    response = conn.getresponse()
    response.read()
    return response.status


def client(port: int, index: int, stop_at: float, results: Any) -> None:
    """One keep-alive client (its own process) posting unique orders until ``stop_at``."""
    latencies: list[float] = []
    errors: list[int] = []
    gen = OrderGenerator(seed=index, location=LOCATION)
    templates = [json.dumps(gen.order(orderId=PLACEHOLDER)).encode() for _ in range(50)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    path = f"/deliverect/{LOCATION}/orders"
    count = 0
    while time.monotonic() < stop_at:
        template = templates[count % len(templates)]
        body = template.replace(PLACEHOLDER.encode(), f"{index:04x}{count:020x}".encode(), 1)
        count += 1
        started = time.perf_counter()
        try:
            status = post(conn, path, body)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors.append(status)
    conn.close()
    results.put((latencies, errors, time.process_time()))


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its children (gunicorn master + workers)."""
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def mqtt_lag(config: DatabaseConfig, timeout: float = 15.0) -> int:
    """Events not yet acknowledged by the broker, after giving the publisher ``timeout``."""
    deadline = time.monotonic() + timeout
    lag = -1
    store = open_store(config)
    try:
        while time.monotonic() < deadline:
            # The publisher's saved position is (transaction id, event id): events past it.
            rows = store.read().execute(
                "SELECT name, value FROM cursors WHERE name LIKE 'mqtt-publisher%'"
            )
            cursor = {str(row[0]): int(row[1]) for row in rows}
            if store.engine == "sqlite":
                lag = (
                    store.read()
                    .execute(
                        "SELECT COUNT(*) FROM events WHERE id > ?",
                        (cursor.get("mqtt-publisher", 0),),
                    )
                    .fetchone()[0]
                )
            else:
                lag = (
                    store.read()
                    .execute(
                        "SELECT COUNT(*) FROM events WHERE (xid, id) > (?::text::xid8, ?)",
                        (str(cursor.get("mqtt-publisher-xid", 0)), cursor.get("mqtt-publisher", 0)),
                    )
                    .fetchone()[0]
                )
            if lag == 0:
                break
            time.sleep(0.2)
    finally:
        store.close()
    return int(lag)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kds-bench-"))
    cluster: PostgresCluster | None = None
    database = DatabaseConfig(path=str(workdir / "gateway.db"))
    if args.store == "postgresql":
        # Its own temp dir: the server runs as nobody when we are root, and must get in.
        cluster = PostgresCluster.in_temp_dir("kds-bench-pg-", durable=True)
        cluster.start()
        database.url = cluster.create_database()
    broker, mqtt_port = start_mosquitto(workdir)
    gateway, port = start_gateway(workdir, mqtt_port, args.workers, args.threads, database.url)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        register = json.dumps({"accountId": "a", "locationId": LOCATION, "externalReference": "b"})
        assert post(conn, "/deliverect/register", register.encode()) == 200
        conn.close()
        results: Any = multiprocessing.Queue()
        server_cpu_before = cpu_seconds(gateway.pid)
        broker_cpu_before = cpu_seconds(broker.pid)
        machine_before = psutil.cpu_times()
        stop_at = time.monotonic() + args.seconds
        clients = [
            multiprocessing.Process(target=client, args=(port, i, stop_at, results))
            for i in range(args.clients)
        ]
        started = time.monotonic()
        for process in clients:
            process.start()
        gathered = [results.get(timeout=args.seconds + 60) for _ in clients]
        elapsed = time.monotonic() - started
        server_cpu = cpu_seconds(gateway.pid) - server_cpu_before
        broker_cpu = cpu_seconds(broker.pid) - broker_cpu_before
        machine_after = psutil.cpu_times()
        busy = sum(machine_after) - machine_after.idle - (sum(machine_before) - machine_before.idle)
        for process in clients:
            process.join(10)
        latencies = sorted(x for lat, _, _ in gathered for x in lat)
        errors = [e for _, errs, _ in gathered for e in errs]
        client_cpu = sum(cpu for _, _, cpu in gathered)
        lag = mqtt_lag(database)
    finally:
        os.killpg(gateway.pid, signal.SIGTERM)
        gateway.wait(30)
        broker.send_signal(signal.SIGTERM)
        broker.wait(10)
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.directory, ignore_errors=True)
    result: dict[str, Any] = {
        "webhooks_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "requests": len(latencies),
        "errors": len(errors),
        "mqtt_unpublished_after_run": lag,
        "server_cpu_ms_per_webhook": round(server_cpu / len(latencies) * 1000, 3),
        "client_cpu_ms_per_webhook": round(client_cpu / len(latencies) * 1000, 3),
        "broker_cpu_ms_per_webhook": round(broker_cpu / len(latencies) * 1000, 3),
        "machine_busy_pct": round(busy / elapsed / psutil.cpu_count() * 100, 1),
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers or ServerConfig.workers,
        "threads": args.threads or ServerConfig.threads,
        "store": args.store,
    }
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
