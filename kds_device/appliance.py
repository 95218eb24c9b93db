"""``kds-device run``: the composition root of the appliance.

Loads the config and the enrollment, then starts in order: the device link (outbox sender,
HTTP poller, MQTT feed), the optional control socket, and the Kivy board on the main thread.
Everything is stopped in reverse in ``finally``, also on SIGTERM (systemd's stop) and SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from kds_device.adapters.control_socket import ControlSocket
from kds_device.adapters.enrollment import Enrollment, EnrollmentError, load_enrollment
from kds_device.config import DeviceConfig, load_config
from kds_device.device_commands import board_path
from kds_device.device_link import DeviceLink, stored_last_seq
from kds_device.domain.roles import Role
from kds_device.paths import config_file, data_dir
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import Message

log = logging.getLogger(__name__)

EXIT_NOT_ENROLLED = 2


def run_appliance(args: argparse.Namespace) -> int:
    """The ``kds-device run`` command; returns the process exit code."""
    config = load_config(config_file())
    if getattr(args, "windowed", False):
        config.display.fullscreen = False
    directory = data_dir()
    try:
        enrollment = load_enrollment(directory)
    except EnrollmentError as error:
        print(f"kds-device: {error}", file=sys.stderr)
        return EXIT_NOT_ENROLLED
    apply_enrollment_role(config, enrollment)
    inbox: Inbox[Message] = Inbox()
    link = DeviceLink(
        enrollment,
        directory,
        inbox,
        config.connection,
        last_seq=stored_last_seq(board_path(directory)),
    )
    control = ControlSocket.from_environment(inbox)
    log.info(
        "kds-device run: device %s at %s via %s (%s)",
        enrollment.device_id,
        enrollment.location_id,
        enrollment.gateway_url,
        "MQTT + HTTP" if enrollment.mqtt else "HTTP long-poll",
    )
    started: list[Any] = []
    try:
        link.start()
        started.append(link)
        if control is not None:
            control.start()
            started.append(control)
        _run_board(config, inbox, link, directory)
    finally:
        for part in reversed(started):
            try:
                part.stop()
            except Exception:
                log.exception("stopping %s failed", type(part).__name__)
    return 0


def apply_enrollment_role(config: DeviceConfig, enrollment: Enrollment) -> None:
    """The screen's identity and the role the gateway gave it at enrollment (the gateway's
    ``GET /api/v1/device`` and ``device.role`` events update it while running)."""
    config.board.device_id = enrollment.device_id
    if enrollment.role is not None:
        try:
            config.board.role = Role.from_json(enrollment.role)
        except ValueError as error:
            log.warning("enrollment role unreadable (%s); keeping %s", error, config.board.role)


def _run_board(
    config: DeviceConfig, inbox: Inbox[Message], link: DeviceLink, directory: Path
) -> None:
    """The Kivy board on this (main) thread until the app stops."""
    from kds_device.ui.window_config import configure_window

    # a mouse provider only for a desktop window: on the panel it would double every tap
    configure_window(
        config.display.size, config.display.fullscreen, mouse=not config.display.fullscreen
    )
    from kivy.clock import Clock

    from kds_device.board_setup import build_board_app

    # the board reads the time corrected by the gateway's while this clock is off
    app = build_board_app(config, inbox, link.outbox, data_dir=directory, now=link.clock.now)
    app.clock_note = link.clock.note
    core = app.core  # the heartbeat reports what the board applied and shows
    link.report_board(lambda: core.last_seq, lambda: core.board.role, core.shown)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        app.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
