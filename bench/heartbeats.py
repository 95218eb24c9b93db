"""Heartbeat benchmark: N screens reporting in to ``kds-gateway serve`` as it runs in production.

Starts the gateway (gunicorn gthread) on SQLite (WAL + synchronous=FULL), enrolls N screens,
and has each post ``POST /api/v1/heartbeat`` every ``--every`` seconds for D seconds from its
own keep-alive connection (threads of one process: the posts are tiny). Prints the answer
latency, the heartbeats kept per second and the gateway's CPU; the last line printed is one
JSON object with the figures. In the field a screen beats every 5 s.

    .venv/bin/python bench/heartbeats.py [--screens 30] [--every 0.5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway_ingest import SECRET, cpu_seconds, post  # noqa: E402  (bench/, the script's folder)
from local_procs import free_port, wait_for_port  # noqa: E402

from kds_device.gateway.config import DatabaseConfig  # noqa: E402
from kds_device.gateway.devices import Devices  # noqa: E402
from kds_device.gateway.stores import open_store  # noqa: E402

LOCATION = "bench-heartbeats"


def start_gateway(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = workdir / "gateway.toml"
    config.write_text(
        f'[server]\nbind = "127.0.0.1:{port}"\npublic_base_url = "http://127.0.0.1:{port}"\n'
        f'[database]\npath = "{workdir / "gateway.db"}"\n'
        f'[deliverect]\nhmac_secret = "{SECRET}"\n[outbox]\nenabled = false\n'
    )
    log = (workdir / "gateway.log").open("wb")
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("kds-gateway")), "--config", str(config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process, "kds-gateway")
    return process, port


def enroll(port: int, database: Path, count: int) -> list[str]:
    store = open_store(DatabaseConfig(path=str(database)))
    codes = [Devices(store).mint_code(LOCATION, 600) for _ in range(count)]
    store.close()
    tokens = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for index, code in enumerate(codes):
        body = json.dumps({"code": code, "name": f"Screen {index}"})
        conn.request("POST", "/api/v1/enroll", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        tokens.append(json.loads(answer.read())["token"])
    conn.close()
    return tokens


def screen(
    port: int,
    token: str,
    index: int,
    every_s: float,
    stop_at: float,
    out: list[tuple[list[float], int]],
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = 0
    seq = 0
    next_at = time.monotonic() + every_s * index / 97 % every_s  # spread the screens out
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        if next_at > now:
            time.sleep(next_at - now)
        next_at += every_s
        seq += 1
        body = json.dumps(
            {"version": "bench", "role": "all", "stations": [], "link": "http",
             "bumps_waiting": 0, "last_seq": seq, "clock_synced": True, "cpu_temp_c": 50.0}
        )  # fmt: skip
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/heartbeat", body, headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 204
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    conn.close()
    out.append((latencies, errors))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screens", type=int, default=30)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between beats")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kds-bench-hb-") as tmp:
        workdir = Path(tmp)
        process, port = start_gateway(workdir)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            body = json.dumps({"accountId": "a", "locationId": LOCATION}).encode()
            assert post(conn, "/deliverect/register", body) == 200
            conn.close()
            tokens = enroll(port, workdir / "gateway.db", args.screens)
            cpu_before = cpu_seconds(process.pid)
            stop_at = time.monotonic() + args.seconds
            results: list[tuple[list[float], int]] = []
            threads = [
                threading.Thread(target=screen, args=(port, t, i, args.every, stop_at, results))
                for i, t in enumerate(tokens)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            cpu = cpu_seconds(process.pid) - cpu_before
        finally:
            process.terminate()
            process.wait(30)
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    figures = {
        "screens": args.screens,
        "every_s": args.every,
        "seconds": round(elapsed, 1),
        "heartbeats": len(latencies),
        "per_s": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1),
        "max_ms": round(1000 * latencies[-1], 1),
        "gateway_cpu_per_heartbeat_ms": round(1000 * cpu / max(1, len(latencies)), 2),
    }
    print(
        f"{figures['heartbeats']} heartbeats from {args.screens} screens in "
        f"{figures['seconds']} s ({figures['per_s']}/s), {errors} errors; latency p50 "
        f"{figures['p50_ms']} ms, p99 {figures['p99_ms']} ms; gateway CPU "
        f"{figures['gateway_cpu_per_heartbeat_ms']} ms per heartbeat"
    )
    print(json.dumps(figures))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
