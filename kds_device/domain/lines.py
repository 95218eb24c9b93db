"""A ticket's printed lines: items flattened with modifiers indented and quantities right."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from kds_device.domain.order import Item, Order

DEFAULT_ALLERGY_WORDS: tuple[str, ...] = (
    "allergy",
    "allergic",
    "allergen",
    "nut",
    "nuts",
    "peanut",
    "peanuts",
    "gluten",
    "coeliac",
    "celiac",
    "dairy",
    "lactose",
    "milk",
    "egg",
    "eggs",
    "shellfish",
    "sesame",
    "soy",
    "fish",
    "vegan",
)


class LineKind(Enum):
    ITEM = "item"  # a top-level product
    MODIFIER = "modifier"  # a sub-item at depth >= 1
    REMARK = "remark"  # an item's remark, under the item
    NOTE = "note"  # the order note
    PROBLEM = "problem"  # something wrong with the order as a whole ("NO ITEMS - ...")
    HINT = "hint"  # a station screen: the rest of the order elsewhere ("+3 at Fryer")
    PART = "part"  # expo: one station's progress ("Grill  done 12:04", "Fryer  2/3")


@dataclass(frozen=True, slots=True)
class TicketLine:
    kind: LineKind
    text: str
    depth: int = 0
    quantity: int = 1  # as printed: per unit of the parent for a modifier
    total: int = 1  # how many to make in all (quantity times every parent's quantity)
    allergy: bool = False
    flag: str = ""  # what is wrong with this line ("CHECK qty -1"); printed after it
    #: The top-level item this line belongs to (its modifiers and remarks too); -1: none.
    item: int = -1
    #: Marked done (an item at a station, or a station's part on expo): struck through.
    done: bool = False

    def label(self) -> str:
        """The line as a cook reads it."""
        flag = f"  {self.flag}" if self.flag else ""
        if self.kind is LineKind.ITEM:
            return f"{self.quantity or '?'}  {self.text}{flag}"
        if self.kind is LineKind.MODIFIER:
            prefix = f"{self.quantity}x " if self.quantity > 1 else ""
            return f"+ {prefix}{self.text}{flag}"
        if self.kind is LineKind.REMARK:
            return f"» {self.text}"
        if self.kind in (LineKind.PROBLEM, LineKind.HINT, LineKind.PART):
            return self.text
        return f"NOTE: {self.text}"


def glued(lines: Sequence[TicketLine]) -> list[bool]:
    """For each line: whether it must stay in the same column as the line before it (a
    modifier or remark with its item: never cut from it by a column or page break; expo's
    progress rows together and with the first item; a station's hint with the line above)."""
    out = []
    for index, line in enumerate(lines):
        after_part = index > 0 and lines[index - 1].kind is LineKind.PART
        stays = line.kind in (LineKind.MODIFIER, LineKind.REMARK, LineKind.HINT)
        out.append(index > 0 and (stays or after_part))
    return out


def allergy_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = [re.escape(w.strip()) for w in words if w.strip()]
    if not cleaned:
        return None
    return re.compile(r"\b(" + "|".join(cleaned) + r")\b", re.IGNORECASE)


def ticket_lines(order: Order, allergy: re.Pattern[str] | None = None) -> list[TicketLine]:
    """Every line of the ticket body in order: what is wrong with the order as a whole
    ("NO ITEMS - check the tablet", "time?"), items, their modifiers and remarks, the note."""
    lines = [TicketLine(LineKind.PROBLEM, flag, 0, 0, 0) for flag in order.notices]
    for index, item in enumerate(order.items):
        lines.extend(_item_lines(item, 0, 1, allergy, index))
    if order.note:
        lines.append(TicketLine(LineKind.NOTE, order.note, 0, 1, 1, _flag(order.note, allergy)))
    return lines


def _item_lines(
    item: Item, depth: int, parent_total: int, allergy: re.Pattern[str] | None, index: int
) -> Iterator[TicketLine]:
    total = item.quantity * parent_total
    kind = LineKind.ITEM if depth == 0 else LineKind.MODIFIER
    allergic = _flag(item.name, allergy)
    yield TicketLine(kind, item.name, depth, item.quantity, total, allergic, item.problem, index)
    if item.remark:
        remark_allergy = _flag(item.remark, allergy)
        yield TicketLine(
            LineKind.REMARK, item.remark, depth + 1, 1, total, remark_allergy, "", index
        )
    for sub in item.sub_items:
        yield from _item_lines(sub, depth + 1, total, allergy, index)


def _flag(text: str, allergy: re.Pattern[str] | None) -> bool:
    return bool(allergy and allergy.search(text))


def item_totals(order: Order, only: Container[int] | None = None) -> dict[str, int]:
    """How many of each top-level product the order needs (for all-day counts); ``only``:
    the indexes of the items to count (a station's open items)."""
    totals: dict[str, int] = {}
    for index, item in enumerate(order.items):
        if only is not None and index not in only:
            continue
        if item.quantity > 0:  # 0: unreadable, flagged on the ticket, not counted
            totals[item.name] = totals.get(item.name, 0) + item.quantity
    return totals
