"""The config loader forgives typos loudly; the inbox wakes once per burst."""

from __future__ import annotations

import threading
from pathlib import Path

from kds_device.config import DisplayConfig, load_config
from kds_device.domain import OrderType
from kds_device.runtime.inbox import Inbox


def test_config_reads_values_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        """
[board]
bump_status = 60
caution_min = 4
late_min = "eight"
allergy_words = ["sesame", "nuts"]
[board.order_types.eat_in]
caution_min = 10
late_min = 15
[display]
station = "Grill"
size = "800x480"
rotation = 45
channels = { 7 = "Uber Eats" }
[bumpbar.pins]
17 = "bump"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.board.bump_status == 60
    assert config.board.default_thresholds.caution_s == 240
    assert config.board.default_thresholds.late_s == 480  # the bad value fell back
    assert config.board.thresholds[OrderType.EAT_IN].late_s == 900
    assert config.board.allergy_words == ("sesame", "nuts")
    assert config.display.station == "Grill"
    assert config.display.size == (800, 480)
    assert config.display.rotation == 0
    assert config.display.channels[7] == "Uber Eats"
    assert config.display.channels[1] == "Deliverect"  # Deliverect's ids stay named
    assert config.bumpbar.pins == {17: "bump"}
    assert any("late_min" in p for p in config.problems)
    assert any("rotation" in p for p in config.problems)


def test_channel_names_ship_with_deliverects_ids_and_config_overrides(tmp_path: Path) -> None:
    """Issue 9, point 19: no "channel 39" on an appliance nobody configured."""
    assert DisplayConfig().channels[39] == "iFood"
    assert DisplayConfig().channels[1] == "Deliverect"
    path = tmp_path / "config.toml"
    path.write_text(
        '[display.channels]\n1 = "Our web shop"\n7 = "Uber Eats"\n"²" = "Squared"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.display.channels[1] == "Our web shop"
    assert config.display.channels[7] == "Uber Eats"
    assert config.display.channels[39] == "iFood"
    assert any("display.channels.²" in p for p in config.problems)


def test_urgency_settings_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[board]\nfinish_margin_min = 3\nhurry_min = 6\n", encoding="utf-8")
    config = load_config(path)
    assert config.board.finish_margin_s == 180
    assert config.board.hurry_s == 360


def test_missing_or_broken_config_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml").problems == []
    broken = tmp_path / "broken.toml"
    broken.write_text("[board\nbump_status = ", encoding="utf-8")
    config = load_config(broken)
    assert config.board.bump_status == 70
    assert config.problems and "cannot read" in config.problems[0]


def test_inbox_wakes_once_per_burst_from_many_threads() -> None:
    wakes = []
    inbox: Inbox[int] = Inbox(lambda: wakes.append(1))
    threads = [
        threading.Thread(target=lambda n=n: [inbox.post(n * 100 + i) for i in range(100)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drained = inbox.drain()
    assert sorted(drained) == sorted(n * 100 + i for n in range(4) for i in range(100))
    assert len(wakes) == 1
    inbox.post(7)
    assert len(wakes) == 2 and inbox.drain() == [7]
