"""Shared test set-up. Fixture families live in tests/fixtures/, one module each."""

import os

# Kivy reads these at import: no argv parsing, no console spam, a throwaway home,
# SDL's dummy audio (CI has no sound card). pytest-xvfb provides the display.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# Never pick up a machine's real /etc/kds-device/config.toml (the provisioning test writes one).
os.environ.setdefault("KDS_DEVICE_CONFIG", "/nonexistent/kds-device.toml")

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.bumpbar",
    "tests.fixtures.deliverect_sim",
    "tests.fixtures.mosquitto",
    "tests.fixtures.broker_client",
    "tests.fixtures.gateway",
    "tests.fixtures.postgres",
    "tests.fixtures.device",
    "tests.fixtures.board_app",
    "tests.fixtures.device_app",
    "tests.fixtures.admin",
]
