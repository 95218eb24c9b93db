"""A ticket line cut into the rows it is drawn in. Pure: widths come from a measure function.

The board wraps text itself, so that

* a continuation row keeps a **hanging indent**: it starts under the text of its line, never
  at the tile's edge, and never reads as a new item ("+ 3x Sriracha" / "mayo");
* a word too long for a row is **broken visibly**: the row ends with a hyphen drawn only on
  screen (the order's text is not changed, no space is inserted);
* right-to-left rows are put in display order *after* wrapping (words wrap in reading
  order), in the fonts that have their glyphs (:mod:`kds_device.ui.scripts`);
* the paginator's row count and the pixels agree: the row counter counts these rows (more
  body rows for a row in a taller script's font, :class:`kds_device.ui.measure.RowCounter`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kds_device.domain.lines import LineKind, TicketLine
from kds_device.ui.scripts import font_markup, is_rtl, shaped, visual
from kds_device.ui.theme import Palette

#: ``plain text -> width in px`` at the size the rows are drawn (bold: errs towards room).
Measure = Callable[[str], float]
NBSP = "\u00a0"
INDENT = NBSP * 3  # one depth level of modifiers
HYPHEN = "-"  # drawn at the end of a row that breaks a word; not part of the text
WARN = "⚠"
LIMIT = 400  # characters of one line drawn at most (hostile payloads)

#: Style name -> (opening, closing) markup.
STYLES: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "b": ("[b]", "[/b]"),
    "qty": (f"[color={Palette.QUANTITY}][b]", "[/b][/color]"),
    "mod": (f"[color={Palette.MODIFIER}]", "[/color]"),
    "remark": (f"[color={Palette.REMARK}][i]", "[/i][/color]"),
    "note_head": (f"[color={Palette.NOTE}][b]", "[/b][/color]"),
    "note": (f"[color={Palette.NOTE}][i]", "[/i][/color]"),
    "allergy": (f"[color={Palette.ALLERGY}][b]", "[/b][/color]"),
    "warn": (f"[color={Palette.ALLERGY}]", "[/color]"),
    "count": ("[b][color=#ffd54a]", "[/color][/b]"),
    "hint": (f"[color={Palette.TEXT_DIM}][i]", "[/i][/color]"),
    "part": ("[b]", "[/b]"),
    "part_done": (f"[color={Palette.GOOD}][b]", "[/b][/color]"),
    "done": (f"[color={Palette.DONE}]", "[/color]"),
}


@dataclass(frozen=True)
class Frag:
    text: str
    style: str = ""


Word = tuple[Frag, ...]


def clean(text: str, limit: int = LIMIT) -> str:
    """One printable line: control characters dropped, capped (words are never cut here)."""
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_parts(
    line: TicketLine, allergy: re.Pattern[str] | None, voided: bool = False
) -> tuple[Word, list[Word], str]:
    """The first row's prefix, the words of the text, and the line's base style."""
    if (line.kind is LineKind.PROBLEM or line.flag) and not voided:
        # a line the order got wrong, as sent ("? Burger  CHECK qty -1"), bold alert colour
        return (
            (Frag(INDENT * line.depth),),
            _words(shaped(clean(line.label())), "allergy", None),
            "allergy",
        )
    text = shaped(clean(line.text))
    if line.kind is LineKind.HINT:
        return (Frag(""),), _words(text, "hint", None), "hint"
    if line.kind is LineKind.PART:  # expo: a station's progress, a tick once it is done
        base = "part_done" if line.done else "part"
        return (Frag("✓ " if line.done else "• ", base),), _words(text, base, None), base
    if line.done and not voided:  # an item done at its station: dimmed (and struck through)
        return _done_parts(line, text)
    warn = (Frag(WARN, "warn" if not voided else ""), Frag(" "))
    warned = warn if line.allergy else ()
    if line.kind is LineKind.ITEM:
        base = "b"
        qty = (
            Frag(f"{line.quantity}x", "qty" if not voided else "b")
            if line.quantity != 1
            else Frag("1")
        )
        prefix: Word = (*warned, qty, Frag("  "))
    elif line.kind is LineKind.MODIFIER:
        base = "mod"
        mark = warned or (Frag("+ ", base),)
        times = (Frag(f"{line.quantity}x ", base),) if line.quantity != 1 else ()
        prefix = (Frag(INDENT * line.depth), *mark, *times)
    elif line.kind is LineKind.REMARK:
        base = "remark"
        prefix = (Frag(INDENT * line.depth), *warned, Frag("» ", base))
    else:
        base = "note"
        prefix = (*warned, Frag("NOTE:", "note_head"), Frag(" "))
    if voided:
        base = "b" if line.kind is LineKind.ITEM else ""
        prefix = tuple(Frag(f.text, base if f.style else "") for f in prefix)
    return prefix, _words(text, base, None if voided else (allergy if line.allergy else None)), base


def _done_parts(line: TicketLine, text: str) -> tuple[Word, list[Word], str]:
    """A done item line (or its modifier or remark): same words and indent, dimmed."""
    indent = Frag(INDENT * line.depth)
    if line.kind is LineKind.ITEM:
        prefix: Word = (
            Frag(f"{line.quantity}x" if line.quantity != 1 else "1", "done"),
            Frag("  "),
        )
    elif line.kind is LineKind.MODIFIER:
        times = f"{line.quantity}x " if line.quantity != 1 else ""
        prefix = (indent, Frag(f"+ {times}", "done"))
    else:
        prefix = (indent, Frag("» ", "done"))
    return prefix, _words(text, "done", None), "done"


def _words(text: str, base: str, allergy: re.Pattern[str] | None) -> list[Word]:
    """Words of ``text``, allergy words in capitals and their own style."""
    marks = [False] * len(text)
    shown = list(text)
    if allergy is not None:
        for match in allergy.finditer(text):
            for i in range(match.start(), match.end()):
                marks[i] = True
                shown[i] = shown[i].upper()
    words: list[Word] = []
    start = 0
    for index in range(len(text) + 1):
        if index == len(text) or text[index] == " ":
            if index == start and index < len(text) and index > 0:
                start = index  # a second space: kept at the start of the next word
                continue
            if index > start:
                frags: list[Frag] = []
                for i in range(start, index):
                    style = "allergy" if marks[i] else base
                    if frags and frags[-1].style == style:
                        frags[-1] = Frag(frags[-1].text + shown[i], style)
                    else:
                        frags.append(Frag(shown[i], style))
                words.append(tuple(frags))
            start = index + 1
    return words


def wrap(prefix: Word, words: Sequence[Word], room: float, measure: Measure) -> list[list[Frag]]:
    """Rows of fragments: the prefix starts row 1; later rows start with the hanging indent."""
    prefix_w = measure(_plain(prefix))
    nbsp = max(1.0, measure(NBSP))
    # under the text, but never more than half the row (deep modifiers in a narrow tile)
    indent = Frag(NBSP * max(0, round(min(prefix_w, room * 0.5) / nbsp)))
    indent_w = measure(indent.text) if indent.text else 0.0
    space = measure(" ")
    rows: list[list[Frag]] = [list(prefix)]
    used, fresh = prefix_w, True  # fresh: nothing but the prefix/indent on the row yet
    for word in words:
        width = measure(_plain(word))
        need = width if fresh else space + width
        if used + need <= room:
            _append(rows[-1], word, not fresh)
            used, fresh = used + need, False
            continue
        if indent_w + width <= room:  # on a new row
            rows.append([indent, *word])
            used, fresh = indent_w + width, False
            continue
        # too long for any row: break it, hyphen drawn at each break
        chars = [(ch, f.style) for f in word for ch in f.text]
        while chars:
            avail = room - used - (0.0 if fresh else space)
            take = _fits(chars, avail, measure)
            if take < min(3, len(chars)) and not fresh:
                rows.append([indent])
                used, fresh = indent_w, True
                continue
            take = max(1, take)
            piece = _frags(chars[:take])
            rest = chars[take:]
            if rest:
                piece = (*piece, Frag(HYPHEN, piece[-1].style))
            _append(rows[-1], piece, not fresh)
            chars = rest
            if chars:
                rows.append([indent])
                used, fresh = indent_w, True
            else:
                used, fresh = used + measure(_plain(piece)) + (0.0 if fresh else space), False
    return rows


def _fits(chars: list[tuple[str, str]], avail: float, measure: Measure) -> int:
    """How many of ``chars`` fit ``avail`` with a hyphen after them."""
    lo, hi = 0, len(chars)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        text = "".join(c for c, _ in chars[:mid])
        if measure(text + (HYPHEN if mid < len(chars) else "")) <= avail:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _frags(chars: list[tuple[str, str]]) -> Word:
    out: list[Frag] = []
    for ch, style in chars:
        if out and out[-1].style == style:
            out[-1] = Frag(out[-1].text + ch, style)
        else:
            out.append(Frag(ch, style))
    return tuple(out)


def _append(row: list[Frag], word: Word, space: bool) -> None:
    if space:
        same = bool(row and word and row[-1].style == word[0].style)
        row.append(Frag(" ", word[0].style if same else ""))
    row.extend(word)


def _plain(frags: Sequence[Frag]) -> str:
    return "".join(f.text for f in frags)


def row_markup(row: Sequence[Frag], lead: int, base: str, strike: bool = False) -> str:
    """One row as markup. ``lead`` fragments (prefix or indent) stay as they are; a row with
    right-to-left text is put in display order and drawn in the line's base style. ``strike``
    strikes the row through from its first visible character (not through its indent)."""
    head, body = row[:lead], row[lead:]
    text = _plain(body)
    if is_rtl(text):
        body = [Frag(visual(text), base)]
    out = []
    blank = 0  # leading fragments that are only indent
    for frag in (*head, *_merge(body)):
        start, end = STYLES[frag.style]
        out.append(f"{start}{font_markup(frag.text)}{end}")
        if len(out) == blank + 1 and not frag.text.strip(" " + NBSP):
            blank += 1
    if strike:
        return "".join(out[:blank]) + "[s]" + "".join(out[blank:]) + "[/s]"
    return "".join(out)


def _merge(frags: Sequence[Frag]) -> list[Frag]:
    out: list[Frag] = []
    for frag in frags:
        if out and out[-1].style == frag.style:
            out[-1] = Frag(out[-1].text + frag.text, frag.style)
        else:
            out.append(frag)
    return out


def line_rows(
    line: TicketLine,
    allergy: re.Pattern[str] | None,
    room: float,
    measure: Measure,
    voided: bool = False,
) -> list[str]:
    """The markup rows one ticket line is drawn in (``room`` px wide)."""
    prefix, words, base = line_parts(line, allergy, voided)
    rows = wrap(prefix, words, room, measure)
    done = line.done and not voided and line.kind is not LineKind.PART
    out = [row_markup(rows[0], len(prefix), base, done)]
    out += [row_markup(row, 1, base, done) for row in rows[1:]]
    if voided:
        out = [f"[s]{row}[/s]" for row in out]
    return out


def count_rows(prefix: str, text: str, room: float, measure: Measure, style: str = "") -> list[str]:
    """Rows of a plain ``prefix`` + ``text`` line (the all-day panel: ``  3  Burger``)."""
    words = [(Frag(w, style),) for w in shaped(clean(text)).split(" ") if w]
    head: Word = (Frag(prefix, "count"), Frag("  "))
    rows = wrap(head, words, room, measure)
    return [row_markup(rows[0], 2, style)] + [row_markup(r, 1, style) for r in rows[1:]]
