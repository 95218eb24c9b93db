"""Registers the fallback fonts of :mod:`kds_device.ui.scripts` with Kivy, from the system's
font folders (Debian and Raspberry Pi OS packages: fonts-noto-core, fonts-noto-cjk,
fonts-symbola, fonts-dejavu-core; ``deploy/provision.sh`` installs them). A font that is
missing is skipped: its script then draws in Roboto (boxes), and a warning says which."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kivy.core.text import LabelBase

from kds_device.ui import scripts

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_done = False


def _index() -> dict[str, str]:
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                found.setdefault(name, str(Path(folder) / name))
    return found


def register_fonts() -> set[str]:
    """Register every fallback font found (once per process); returns their names."""
    global _done
    if _done:
        return scripts.AVAILABLE
    _done = True
    files = _index()
    for font in scripts.FALLBACKS:
        regular = next((files[n] for n in font.regular if n in files), None)
        if regular is None:
            log.warning(
                "font for %s not found (%s): its script draws as boxes", font.name, font.regular
            )
            continue
        bold = next((files[n] for n in font.bold if n in files), regular)
        LabelBase.register(font.name, regular, regular, bold, bold)
        scripts.AVAILABLE.add(font.name)
    scripts._cache.clear()
    return scripts.AVAILABLE
