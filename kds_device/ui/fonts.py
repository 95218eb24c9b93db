"""Registers the fallback fonts of :mod:`kds_device.ui.scripts` with Kivy, from the system's
font folders (Debian and Raspberry Pi OS packages: fonts-noto-core, fonts-noto-cjk,
fonts-symbola, fonts-dejavu-core; ``deploy/provision.sh`` installs them). A font that is
missing is skipped: its script then draws in Roboto (boxes), and a warning says which."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from kivy.core.text import LabelBase

from kds_device.ui import scripts

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
#: Each registered fallback font's regular file, by name.
FILES: dict[str, str] = {}
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
    share_open_fonts()
    drop_render_surfaces()
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
        FILES[font.name] = regular
        scripts.AVAILABLE.add(font.name)
    scripts._cache.clear()
    return scripts.AVAILABLE


def share_open_fonts() -> bool:
    """One open font per file and whole pixel size, as SDL_ttf draws it.

    Kivy's SDL2 text provider opens a font file at ``int(font_size)`` but caches it under the
    size as given and the bold and italic flags, so 38.57 px, 38.0 px and markup's
    ``[size=38]`` each open their own copy of the same 38 px font, and so do a bold and a
    plain run of a font that has one file for both (Symbola), or an italic run of one whose
    italic is its regular file (Noto CJK). The flags only choose the file (already in
    ``font_name_r``); SDL_ttf is given no bold or italic style. Each copy costs memory (2.5
    MB for Noto CJK, whose tables FreeType and HarfBuzz read into the heap; 0.1 MB for
    Roboto), and the cache closes its oldest font past 64, to open it again at its next use.
    Keyed by file and whole size, the board keeps one font per face it really draws; what is
    drawn does not change. False where the text provider is not SDL2's."""
    from kivy.core.text import Label as CoreLabel

    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:
        return False
    if not issubclass(CoreLabel, LabelSDL2):
        return False
    LabelSDL2._get_font_id = _font_id
    return True


def drop_render_surfaces() -> bool:
    """A label lets go of the surface it drew its text on once the texture has the pixels.

    Kivy's SDL2 text provider renders a label into an SDL surface as big as its texture
    (4 bytes a pixel), copies the pixels out for the texture and keeps the surface until the
    label's next render: every label on the board held its text twice, once in the GL texture
    and once in that surface (4.8 MB for one 1920x1080 page of tiles). A texture drawn again
    (a GL context lost and rebuilt) renders its label again, on a new surface. False where
    the text provider is not SDL2's."""
    from kivy.core.text import Label as CoreLabel

    try:
        from kivy.core.text.text_sdl2 import LabelSDL2
    except ImportError:
        return False
    if not issubclass(CoreLabel, LabelSDL2):
        return False
    LabelSDL2._render_end = _render_end
    return True


def _render_end(label: Any) -> Any:
    """The rendered pixels (Kivy's ``ImageData``); the surface they were drawn on is freed."""
    data = label._surface.get_data()
    label._surface = None
    return data


def _font_id(label: Any) -> str:
    """What SDL_ttf opens: the file, the whole size and the two styles it is given."""
    options = label.options
    size = int(float(options["font_size"]))
    return f"{size}|{options['font_name_r']}|{options['underline']}|{options['strikethrough']}"
