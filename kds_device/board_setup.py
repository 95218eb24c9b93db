"""Builds the board for the composition roots (``kds-device run``, ``kds-device demo``, the
tests and the bench): the Kivy-free core, the key input and the GPIO bump bar, handed to the
Kivy app that shows them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from kds_device.adapters.gpio_buttons import start_gpio_bumpbar
from kds_device.config import DeviceConfig
from kds_device.domain.clock import Instant
from kds_device.runtime.board_core import BoardCore
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import ActionRequested, LinkChanged, Message, StatusSink
from kds_device.ui.keys import KeyInput

if TYPE_CHECKING:
    from kds_device.ui.app import BoardApp
    from kds_device.ui.sound import Sounds

log = logging.getLogger(__name__)


def system_now() -> Instant:
    return Instant(datetime.now(UTC), time.monotonic())


def build_board_app(
    config: DeviceConfig,
    inbox: Inbox[Message],
    sink: StatusSink,
    data_dir: Path | None = None,
    now: Callable[[], Instant] = system_now,
    link: LinkChanged | None = None,
    tz: tzinfo | None = None,
    sounds: Sounds | None = None,
) -> BoardApp:
    """The board app with its core and inputs (import after the window is configured)."""
    from kds_device.ui.app import BoardApp

    core = BoardCore(config, sink, now, inbox, link)
    keys: KeyInput | None = None
    try:
        keys = KeyInput(config.bumpbar, data_dir, core.perform, core.request_learn)
    except Exception:
        log.exception("key map unavailable; keyboard input disabled")
    # gpiozero calls back on its own threads: the buttons only post to the inbox.
    gpio = start_gpio_bumpbar(
        config.bumpbar, lambda action, source: inbox.post(ActionRequested(action, source))
    )
    return BoardApp(core, keys=keys, gpio=gpio, data_dir=data_dir, tz=tz, sounds=sounds)
