"""What the board keeps in memory stays bounded however many tickets pass through it: the
text rows it caches and the fonts it opens."""

from __future__ import annotations

import os
from collections import Counter

from kds_device.domain.lines import LineKind, TicketLine


def _font_files_open() -> Counter[str]:
    """Font files this process holds open: SDL_ttf keeps one per font (file and size) it
    has open."""
    found: Counter[str] = Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith((".ttf", ".ttc", ".otf")):
            found[os.path.basename(target)] += 1
    return found


def test_fractional_sizes_of_one_font_share_one_open_font() -> None:
    """SDL_ttf draws 41.2 px, 41.7 px and markup's [size=41] with the same 41 px font: the
    board opens it once (the CJK font costs 2.5 MB per open size)."""
    from kivy.core.text import Label as CoreLabel

    from kds_device.ui.fonts import register_fonts

    register_fonts()
    before = _font_files_open()
    widths = set()
    for size in (41.2, 41.5, 41.9, 41):
        label = CoreLabel(text="Burger", font_size=size, bold=True, font_name="KdsCJK")
        widths.add(label.get_extents("Burger 山田")[0])
    markup = CoreLabel(text="x", font_size=12, bold=True, font_name="KdsCJK")
    markup.options["font_size"] = 41  # what a [size=41] run sets
    widths.add(markup.get_extents("Burger 山田")[0])
    opened = _font_files_open() - before
    assert sum(opened.values()) <= 1, opened
    assert len(widths) == 1, "one font size draws them all"


def test_bold_and_italic_runs_of_one_font_file_share_one_open_font() -> None:
    """Noto CJK draws italic with its regular file, Symbola bold with its only file: the flags
    choose the file, and one file at one size is opened once."""
    from kivy.core.text import Label as CoreLabel

    from kds_device.ui.fonts import register_fonts

    register_fonts()
    before = _font_files_open()
    for bold, italic in ((False, False), (False, True)):
        CoreLabel(font_size=43, font_name="KdsCJK", bold=bold, italic=italic).get_extents("山田")
    for bold in (False, True):
        CoreLabel(font_size=43, font_name="KdsSymbols", bold=bold).get_extents("\u2615")
    opened = _font_files_open() - before
    assert sum(opened.values()) <= 2, opened


def test_a_row_counter_keeps_the_rows_of_a_few_pages_not_of_every_line() -> None:
    from kds_device.ui.measure import RowCounter

    counter = RowCounter(20.0, 300.0)
    lines = [TicketLine(LineKind.ITEM, f"Burger number {n}", quantity=1) for n in range(2000)]
    first = counter.rows(lines[0])
    for line in lines:
        assert counter(line) == 1
    assert len(counter) <= 1024
    # the oldest line's rows were let go (wrapped again when asked), the most recent kept:
    # drawing the page again re-wraps nothing
    assert counter.rows(lines[0]) is not first
    assert counter.rows(lines[0]) == first
    recent = counter.rows(lines[-10])
    assert counter.rows(lines[-10]) is recent


def test_measuring_cjk_text_opens_no_cjk_font_and_is_exact_or_wider() -> None:
    """Full-width CJK is one em a character in Noto CJK: the paginator measures it without the
    2.5 MB font (opened only where CJK is drawn), never narrower than drawn, at most 1 px wider."""
    from kivy.core.text import Label as CoreLabel

    from kds_device.ui.measure import RunMeasure
    from kds_device.ui.scripts import font_runs

    texts = [
        "ネギ抜きでお願いします",
        "さくら 山田",
        "山田 太郎",
        "東京（渋谷）、二階。",
        "ＡＢＣ１２３",
    ]
    sizes = (17.3, 23.6, 29.2, 44.9)  # sizes no other test draws CJK at
    before = _font_files_open()
    widths = {(text, px): RunMeasure(px)(text) for text in texts for px in sizes}
    assert not any("CJK" in name for name in _font_files_open() - before)
    for (text, px), width in widths.items():
        (font, run), *rest = font_runs(text)
        assert font == "KdsCJK" and not rest, (text, font_runs(text))
        drawn = max(
            CoreLabel(font_name="KdsCJK", font_size=px, bold=bold).get_extents(run)[0]
            for bold in (False, True)
        )
        assert 0 <= width - drawn <= 1, (text, px, width, drawn)
