"""A pytest plugin (``-p tests.core.kivy_blocker``) that makes importing Kivy fail: the core's
tests run under it in a fresh interpreter, so the core provably works without Kivy."""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any


class BlockKivy(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] == "kivy":
            raise ImportError(f"the core imported {name}")
        return None


assert "kivy" not in sys.modules, "Kivy was imported before the blocker"
sys.meta_path.insert(0, BlockKivy())
