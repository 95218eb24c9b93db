"""Text in any script on a board whose text engine knows neither fallback fonts nor
right-to-left order. Pure (no Kivy): the fonts are registered by :mod:`kds_device.ui.fonts`.

Kivy's SDL2 text provider draws one font per label run and lays characters left to right,
unshaped. So the board does three things itself, at render time only (the order's text is
never changed):

* **font fallback**: each character goes to the first font that covers its script (Roboto
  for Latin, Greek and Cyrillic; Noto Hebrew, Arabic, Thai, Devanagari, CJK; DejaVu for
  arrows, shapes and the allergy sign; Symbola for emoji and the other symbols), as
  ``[font=...]`` markup runs;
* **Arabic shaping** with ``arabic-reshaper`` (letters to their joined forms);
* **bidi reordering** with ``python-bidi`` (the Unicode bidirectional algorithm), per drawn
  row, after wrapping, so a right-to-left name reads right to left and its words wrap in
  reading order.

Kivy's Pango text provider would do all three, but Kivy's wheels are built without it (it
needs Kivy compiled against Pango on every Pi); the two libraries are small, maintained and
pure Python.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import arabic_reshaper
from bidi import get_display


@dataclass(frozen=True)
class FallbackFont:
    """A font registered under ``name`` for the code point ``ranges`` (inclusive)."""

    name: str
    regular: tuple[str, ...]  # file names, first found wins
    bold: tuple[str, ...]
    ranges: tuple[tuple[int, int], ...]


#: In order of preference; a character in none of these ranges stays in Roboto.
FALLBACKS: tuple[FallbackFont, ...] = (
    FallbackFont(
        "KdsHebrew",
        ("NotoSansHebrew-Regular.ttf",),
        ("NotoSansHebrew-Bold.ttf",),
        ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
    ),
    FallbackFont(
        "KdsArabic",
        ("NotoSansArabic-Regular.ttf",),
        ("NotoSansArabic-Bold.ttf",),
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    FallbackFont(
        "KdsThai", ("NotoSansThai-Regular.ttf",), ("NotoSansThai-Bold.ttf",), ((0x0E00, 0x0E7F),)
    ),
    FallbackFont(
        "KdsDevanagari",
        ("NotoSansDevanagari-Regular.ttf",),
        ("NotoSansDevanagari-Bold.ttf",),
        ((0x0900, 0x097F),),
    ),
    FallbackFont(
        "KdsCJK",
        ("NotoSansCJK-Regular.ttc",),
        ("NotoSansCJK-Bold.ttc",),
        (
            (0x1100, 0x11FF),  # Hangul jamo
            (0x2E80, 0x2FFF),  # CJK radicals
            (0x3000, 0x33FF),  # CJK punctuation, kana, bopomofo, compatibility
            (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF),  # CJK ideographs
            (0xAC00, 0xD7AF),  # Hangul syllables
            (0xF900, 0xFAFF),
            (0xFF00, 0xFFEF),  # full-width forms
        ),
    ),
    FallbackFont(
        "KdsDejaVu",
        ("DejaVuSans.ttf",),
        ("DejaVuSans-Bold.ttf",),
        (
            (0x0530, 0x058F),
            (0x10A0, 0x10FF),
            (0x2190, 0x22FF),
            (0x25A0, 0x25FF),
            # the allergy sign: DejaVu's line box is Roboto's, Symbola's is taller than a
            # body row (a flagged item would need two)
            (0x26A0, 0x26A0),
        ),
    ),
    FallbackFont(
        "KdsSymbols",
        ("Symbola_hint.ttf", "Symbola.ttf"),
        (),
        (
            (0x2300, 0x23FF),  # technical (watch, hourglass)
            (0x2600, 0x27BF),  # symbols and dingbats (but the allergy sign: DejaVu, above)
            (0x2B00, 0x2BFF),
            (0x1F000, 0x1FAFF),  # emoji
        ),
    ),
)

#: The fonts found on this machine (filled by :func:`kds_device.ui.fonts.register_fonts`).
AVAILABLE: set[str] = set()

#: Drawn as nothing by a monochrome font: emoji presentation selectors and joiners.
_INVISIBLE = {0xFE0E, 0xFE0F, 0x200D}
_cache: dict[int, str | None] = {}


def font_for(char: str) -> str | None:
    """The fallback font for ``char``, or None for the board's own font (Roboto)."""
    code = ord(char)
    if code < 0x0530:
        return None
    known = _cache.get(code, "?")
    if known != "?":
        return known
    found = None
    for font in FALLBACKS:
        if font.name in AVAILABLE and any(lo <= code <= hi for lo, hi in font.ranges):
            found = font.name
            break
    if len(_cache) < 10000:
        _cache[code] = found
    return found


def font_runs(text: str) -> Iterator[tuple[str | None, str]]:
    """``text`` cut into runs of one font each (None: the board's own font). Spaces and
    punctuation stay with the run they are in."""
    current: str | None = None
    start = 0
    for index, char in enumerate(text):
        font = font_for(char) if not char.isspace() else current
        if index and font != current:
            yield current, text[start:index]
            start = index
        current = font
    if text:
        yield current, text[start:]


def is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def shaped(text: str) -> str:
    """Logical-order text ready to wrap and measure: Arabic letters in their joined forms,
    invisible selectors and joiners dropped."""
    text = "".join(ch for ch in text if ord(ch) not in _INVISIBLE)
    if any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text):
        text = arabic_reshaper.reshape(text)
    return text


def visual(row: str) -> str:
    """One drawn row of order text in display order (left to right on the screen); its base
    direction is its first strong character's, so "فاطمة ع." ends on the left."""
    return get_display(row) if is_rtl(row) else row


def escape(text: str) -> str:
    """Make ``text`` safe inside Kivy markup."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def font_markup(text: str) -> str:
    """Escaped ``text`` with each run outside Roboto's scripts in its fallback font."""
    out = []
    for font, run in font_runs(text):
        out.append(f"[font={font}]{escape(run)}[/font]" if font else escape(run))
    return "".join(out)


def display_markup(text: str) -> str:
    """One line of order text (a name, a table, a reason) as markup: shaped, in display
    order, in the fonts that have its glyphs."""
    return font_markup(visual(shaped(text)))
