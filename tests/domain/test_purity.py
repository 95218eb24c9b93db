"""The domain knows no Kivy, MQTT, HTTP, GPIO or SQLite: import it with those blocked."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ("kivy", "paho", "requests", "gpiozero", "sqlite3", "flask")

PROBE = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {BLOCKED!r}:
            raise ImportError('domain imported ' + name)
        return None
sys.meta_path.insert(0, Block())
import kds_device.domain, kds_device.domain.actions, kds_device.runtime.inbox
import pkgutil, importlib
for info in pkgutil.walk_packages(kds_device.domain.__path__, 'kds_device.domain.'):
    importlib.import_module(info.name)
print('pure')
"""


def test_domain_imports_with_outside_libraries_blocked() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_the_blocker_really_blocks() -> None:
    probe = PROBE.replace("import kds_device.domain,", "import sqlite3, kds_device.domain,")
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "domain imported sqlite3" in result.stderr
