"""``kds-device demo``: the whole chain in one process on loopback, no configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kds_device.adapters.store import BoardStore
from kds_device.demo_chain import DemoChain, find_mosquitto
from kds_device.domain.board import StatusChange
from kds_device.runtime.messages import Link
from tests.fixtures.device import InboxRecorder

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

KDS_DEVICE = Path(sys.executable).with_name("kds-device")


@pytest.mark.parametrize("use_mqtt", [True, False], ids=["mosquitto", "long-poll"])
def test_orders_flow_in_and_bumps_reach_the_simulator(
    tmp_path: Path, recorder: InboxRecorder, use_mqtt: bool
) -> None:
    assert find_mosquitto() is not None  # CI installs it; the demo falls back without it
    chain = DemoChain(tmp_path, rate_per_min=600, prefill=3, seed=5, use_mqtt=use_mqtt)
    chain.start(recorder.inbox)
    try:
        wanted = Link.LIVE_MQTT if use_mqtt else Link.LIVE_HTTP
        recorder.wait_for(lambda r: r.link is wanted, what=wanted.value)
        recorder.wait_for(lambda r: len(r.order_ids()) >= 5, what="orders through the gateway")
        order_id = sorted(recorder.order_ids())[0]
        assert chain.link is not None
        chain.link.outbox.submit(StatusChange(order_id, 70, "demo-key"))
        assert chain.simulator is not None
        calls = chain.simulator.state.wait_for_calls(1, 10.0, True)
    finally:
        chain.stop()
    assert [(c.order_id, c.status) for c in calls] == [(order_id, 70)]
    assert (tmp_path / "enrollment.json").exists() and (tmp_path / "gateway").is_dir()


@pytest.mark.ui
def test_the_demo_command_runs_the_chain(tmp_path: Path) -> None:
    shot = tmp_path / "board.png"
    env = dict(os.environ, KDS_DEVICE_CONFIG=str(tmp_path / "none.toml"))
    env["KIVY_HOME"] = str(tmp_path / "kivy")
    result = subprocess.run(
        [str(KDS_DEVICE), "demo", "--data-dir", str(tmp_path / "demo"), "--rate", "120",
         "--prefill", "4", "--seed", "3", "--screenshot", str(shot), "--screenshot-after", "4"],
        env=env, capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert shot.stat().st_size > 10_000
    status = subprocess.run(
        [str(KDS_DEVICE), "status"],
        env=dict(env, KDS_DEVICE_DATA_DIR=str(tmp_path / "demo")),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "location:      demo-location" in status.stdout
    assert "mqtt://127.0.0.1:" in status.stdout  # Mosquitto was found and used
    seq_line = next(line for line in status.stdout.splitlines() if "last event seq" in line)
    assert int(seq_line.split(":")[1]) >= 4  # the board applied events from the gateway


@pytest.mark.ui
def test_the_kitchen_demo_runs_three_screens_on_one_gateway(tmp_path: Path) -> None:
    """``demo --kitchen``: expo in this process, grill and fryer windows as children; each
    screen applied routed orders from the one gateway and kept its role."""
    shot = tmp_path / "expo.png"
    env = dict(os.environ, KDS_DEVICE_CONFIG=str(tmp_path / "none.toml"))
    env["KIVY_HOME"] = str(tmp_path / "kivy")
    root = tmp_path / "kitchen"
    result = subprocess.run(
        [str(KDS_DEVICE), "demo", "--kitchen", "--data-dir", str(root), "--rate", "120",
         "--prefill", "4", "--seed", "3", "--screenshot", str(shot), "--screenshot-after", "8"],
        env=env, capture_output=True, text=True, timeout=110,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert shot.stat().st_size > 10_000
    for name, role in (("expo", "expo"), ("grill", "stations:grill"), ("fryer", "stations:fryer")):
        board = BoardStore(root / name / "board.db")
        try:
            assert board.get_meta("role") == role, name
            assert int(board.get_meta("last_seq") or 0) >= 4, f"{name} applied no events"
        finally:
            board.close()
