"""Every demo window (the one-screen demo and each window of the demo kitchen) names the
simulator's channels, and a name from the config file still wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from kds_device.sim.menu import CHANNELS


def test_demo_windows_name_the_simulators_channels_and_keep_configured_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kds_device.demo import demo_config

    config_path = tmp_path / "config.toml"
    config_path.write_text('[display.channels]\n"8" = "Roo (ours)"\n')
    monkeypatch.setenv("KDS_DEVICE_CONFIG", str(config_path))
    names = demo_config().display.channels
    assert names[8] == "Roo (ours)"
    for channel, name in CHANNELS.items():
        if channel != 8:
            assert names[channel] == name
