"""The journal, config and CLI on both stores (a real SQLite file, a real PostgreSQL), no
gateway server needed."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kds_device.domain.events import EventType
from kds_device.gateway import db_schema, leases, pg_schema
from kds_device.gateway.config import ConfigError, DatabaseConfig, load_gateway_config
from kds_device.gateway.devices import Device, Devices
from kds_device.gateway.journal import Journal
from kds_device.gateway.outbox import record_device_status
from kds_device.gateway.pruner import prune
from kds_device.gateway.storage import Store
from kds_device.sim.orders import OrderGenerator
from tests.fixtures.gateway import GATEWAY_BIN

pytestmark = pytest.mark.timeout(60)


def test_seq_is_gap_free_per_location_under_concurrent_writers(
    open_db: Callable[[], Store], store: str
) -> None:
    journal = Journal(open_db())
    for location in ("a", "b"):
        journal.register(location, "acc", "ref")

    def write(location: str, seed: int) -> None:
        own = Journal(open_db())  # its own connections, like another process
        gen = OrderGenerator(seed=seed, location=location)
        for _ in range(40):
            order = gen.order()
            own.receive_order(location, order["orderId"], order)

    threads = [threading.Thread(target=write, args=(loc, i)) for i, loc in enumerate("abab")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for location in ("a", "b"):
        seqs = [e.seq for e in journal.events_after(location, 0, limit=1000)]
        assert seqs == list(range(1, 81))
        assert journal.bounds(location) == (1, 80)
    db = open_db()
    if store == "sqlite":
        assert db.read().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = db.read().execute("PRAGMA user_version").fetchone()[0]
        assert version == db_schema.SCHEMA_VERSION
    else:
        version = db.read().execute("SELECT version FROM schema_version").fetchone()[0]
        assert version == pg_schema.SCHEMA_VERSION


def test_a_lease_asked_for_by_several_processes_at_once_goes_to_one(
    open_db: Callable[[], Store],
) -> None:
    """Each process (its own store) asks for a free lease at the same moment: a new one and an
    expired one. Exactly one of them may deliver the outbox or publish to MQTT."""
    askers = [open_db() for _ in range(6)]
    start = threading.Barrier(len(askers))
    for round_ in range(8):
        name = f"job-{round_ // 2}"  # even rounds: no row yet; odd rounds: its row expired
        ttl_s = 0.2 if round_ % 2 == 0 else 60.0
        answers: dict[str, bool] = {}

        def ask(db: Store, name: str, holder: str, ttl_s: float, answers: dict[str, bool]) -> None:
            start.wait(10)
            answers[holder] = leases.acquire(db, name, holder, ttl_s)

        holders = [f"elsewhere-{index}-{round_}" for index in range(len(askers))]
        threads = [
            threading.Thread(target=ask, args=(db, name, holder, ttl_s, answers))
            for db, holder in zip(askers, holders, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        winners = [holder for holder, won in answers.items() if won]
        assert len(answers) == len(askers)
        assert len(winners) == 1, f"round {round_}: {winners} all hold {name}"
        row = askers[0].read().execute("SELECT holder FROM leases WHERE name = ?", (name,))
        assert row.fetchone()[0] == winners[0]
        if round_ % 2 == 0:
            time.sleep(0.3)  # let the 0.2 s lease expire for the next round
        else:
            assert not leases.acquire(askers[0], name, "elsewhere-late-0", ttl_s=60)


def test_status_posts_for_one_order_from_several_processes_take_turns(
    open_db: Callable[[], Store],
) -> None:
    """Screens on several hosts bump one order at once, each status posted twice with one key
    (a retried request): every post gets an answer (no storage error), each key one answer,
    and the statuses journaled and queued for Deliverect only ever go forward."""
    journal = Journal(open_db())
    journal.register("loc", "acc", "ref")
    order = OrderGenerator(seed=5, location="loc").order()
    journal.receive_order("loc", order["orderId"], order)
    device = Device(id="dev_1", location_id="loc", name="Screen", station="Kitchen")
    processes = [Journal(open_db()) for _ in range(6)]
    start = threading.Barrier(len(processes) * 2)
    answers: list[tuple[str, dict[str, Any]]] = []
    failures: list[BaseException] = []

    def post(own: Journal, status: int) -> None:
        start.wait(10)
        try:
            answer = record_device_status(own, device, order["orderId"], status, "", f"k{status}")
            answers.append((f"k{status}", answer.body))
        except BaseException as problem:
            failures.append(problem)

    statuses = [20 + 10 * index for index in range(len(processes))]
    threads = [
        threading.Thread(target=post, args=(own, status))
        for own, status in zip(processes * 2, statuses * 2, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures[:3]
    assert len(answers) == len(threads)
    by_key: dict[str, list[dict[str, Any]]] = {}
    for key, body in answers:
        by_key.setdefault(key, []).append(body)
    assert all(first == again for first, again in by_key.values())  # one answer per key
    journaled = [
        e.data["status"]
        for e in journal.events_after("loc", 0)
        if e.type == EventType.STATUS_CHANGED.value
    ]
    assert journaled == sorted(set(journaled)) and journaled, journaled  # forward only
    assert len(journaled) == sum(body["accepted"] for body, _ in by_key.values())
    queued = journal.db.read().execute("SELECT status FROM outbox ORDER BY id").fetchall()
    assert [row[0] for row in queued] == journaled
    status = journal.db.read().execute("SELECT status FROM orders").fetchone()[0]
    assert status == journaled[-1]


def test_prune_drops_finished_orders_and_keeps_open_ones(open_db: Callable[[], Store]) -> None:
    db = open_db()
    journal = Journal(db)
    journal.register("a", "acc", "ref")
    gen = OrderGenerator(seed=1, location="a")
    done, open_order = gen.order(), gen.order()
    for order in (done, open_order):
        journal.receive_order("a", order["orderId"], order)
    journal.void_order("a", done["orderId"], "gone")
    config = load_gateway_config(None, {"KDS_GATEWAY_DELIVERECT_HMAC_SECRET": "s"} | OUTBOX_OFF)
    assert prune(db, config.database)["orders"] == 0  # nothing is old enough yet
    counts = prune(db, config.database, now=time.time() + config.database.prune_after_h * 3600 + 1)
    assert counts["orders"] == 1 and counts["events"] == 2
    assert [e.order_id for e in journal.events_after("a", 0)] == [open_order["orderId"]]
    assert journal.bounds("a") == (2, 3)  # seq never restarts; the hole is visible
    later = time.time() + config.database.keep_max_h * 3600 + 1
    assert prune(db, config.database, now=later)["orders"] == 1


OUTBOX_OFF = {"KDS_GATEWAY_OUTBOX_ENABLED": "false"}


def test_config_file_env_overrides_and_strictness(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[server]\nbind = "0.0.0.0:9000"\nthreads = 8\n[deliverect]\nhmac_secret = "file"\n'
        "[outbox]\nenabled = false\n[database]\nprune_after_h = 12\n"
    )
    config = load_gateway_config(
        path, {"KDS_GATEWAY_DELIVERECT_HMAC_SECRET": "env", "KDS_GATEWAY_SERVER_THREADS": "4"}
    )
    assert config.server.bind == "0.0.0.0:9000"
    assert config.server.threads == 4 and config.deliverect.hmac_secret == "env"
    assert config.database.prune_after_h == 12.0
    path.write_text('[server]\nthreds = 8\n[deliverect]\nhmac_secret = ""\n')
    with pytest.raises(ConfigError) as problem:
        load_gateway_config(path, {"KDS_GATEWAY_MQTT_PORT": "many"})
    text = str(problem.value)
    for expected in ("server.threds", "hmac_secret is required", "KDS_GATEWAY_MQTT_PORT"):
        assert expected in text


def test_enroll_code_cli_mints_a_code_that_enrolls_once(
    tmp_path: Path, database_config: DatabaseConfig, open_db: Callable[[], Store]
) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[database]\npath = "{database_config.path}"\nurl = "{database_config.url}"\n'
        '[deliverect]\nhmac_secret = "s"\n[outbox]\nenabled = false\n'
    )
    result = subprocess.run(
        [str(GATEWAY_BIN), "--config", str(config), "enroll-code", "--location", "loc-1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    code = result.stdout.strip()
    assert len(code) == 11 and code[5] == "-"
    assert "has not registered" in result.stderr
    devices = Devices(open_db())
    enrolled = devices.enroll(code, "Grill", "Hot")
    assert enrolled is not None and enrolled.device.location_id == "loc-1"
    assert devices.authenticate(enrolled.token) == enrolled.device
    assert devices.enroll(code, "Again", "Hot") is None
    refused = subprocess.run(
        [str(GATEWAY_BIN), "--config", str(config), "enroll-code", "--location", "a/b"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "not a location id" in refused.stderr


def test_the_gateway_imports_without_kivy_gpiozero_or_the_ui() -> None:
    """A gateway server has no Kivy: every gateway module must import with them blocked."""
    script = (
        "import sys, pkgutil, importlib\n"
        "for name in ('kivy', 'gpiozero', 'kds_device.ui'):\n"
        "    sys.modules[name] = None\n"
        "import kds_device.gateway as g\n"
        "names = [m.name for m in pkgutil.iter_modules(g.__path__)]\n"
        "for name in names:\n"
        "    importlib.import_module(f'kds_device.gateway.{name}')\n"
        "print(len(names))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 15
