"""Pages and columns: where each ticket's lines go. A long ticket continues in the next
column with a "continued" marker instead of being cut."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LayoutSpec:
    """Room on one page: ``columns`` columns of ``rows`` text rows each."""

    columns: int = 4
    rows: int = 14
    header_rows: int = 3  # display id, type badge, channel/timers
    continued_header_rows: int = 1  # "#1234 continued"

    def __post_init__(self) -> None:
        if self.columns < 1 or self.rows < self.header_rows + 1:
            raise ValueError(f"layout too small: {self}")


@dataclass(frozen=True, slots=True)
class Segment:
    """Lines ``first``..``last`` (exclusive) of one ticket, in one column."""

    order_id: str
    first: int
    last: int
    continued: bool = False  # starts in the middle of the ticket
    continues: bool = False  # the ticket goes on in the next column

    def rows(self, spec: LayoutSpec, line_rows: Sequence[int]) -> int:
        head = spec.continued_header_rows if self.continued else spec.header_rows
        return head + sum(line_rows[self.first : self.last])


Column = tuple[Segment, ...]
Page = tuple[Column, ...]


Ticket = tuple[str, Sequence[int]] | tuple[str, Sequence[int], Sequence[bool]]


@dataclass(frozen=True, slots=True)
class _Cut:
    offset: int  # columns after the one the ticket starts in
    first: int
    last: int
    continued: bool
    continues: bool


def _cuts(
    rows: Sequence[int], glue: Sequence[bool], spec: LayoutSpec, free: int, busy: bool
) -> list[_Cut]:
    """Where a ticket's lines go when it starts in a column with ``free`` rows left (``busy``:
    that column already holds a ticket). Lines are cut only between blocks (a line and the
    modifiers and remarks glued to it), except a block taller than a whole column."""
    cuts: list[_Cut] = []
    first, offset, continued = 0, 0, False
    while True:
        head = spec.continued_header_rows if continued else spec.header_rows
        room = free - head
        last, used = first, 0
        while last < len(rows) and used + rows[last] <= room:
            used += rows[last]
            last += 1
        if last < len(rows):
            block_end = last
            while last > first and glue[last]:
                last -= 1  # never between an item and its modifiers or remarks
            if last == first and not busy:
                last = max(first + 1, block_end)  # a block taller than a column: cut it
        if room < 0 or (last == first and rows):
            offset, free, busy = offset + 1, spec.rows, False  # nothing fits: next column
            continue
        done = last >= len(rows)
        cuts.append(_Cut(offset, first, last, continued, not done))
        if done:
            return cuts
        offset, free, busy = offset + 1, spec.rows, False
        first, continued = last, True


def paginate(tickets: Sequence[Ticket], spec: LayoutSpec) -> list[Page]:
    """Lay tickets (id, rows each line takes, and optionally for each line whether it is glued
    to the line before it) into pages of columns, in the given order, filling every column.

    A ticket starts right under the one before it; when it does not fit the rest of the
    column it continues at the top of the next, cut between items (a modifier or remark stays
    with its item). A ticket is never cut across pages unless it is taller than a page: one
    that would be starts on the next page instead.
    """
    columns: list[list[Segment]] = [[]]
    free = spec.rows

    def new_column() -> None:
        nonlocal free
        columns.append([])
        free = spec.rows

    for ticket in tickets:
        order_id, line_rows = ticket[0], ticket[1]
        rows = [max(1, r) for r in line_rows]
        given = ticket[2] if len(ticket) > 2 else ()
        glue = [bool(given[i]) if i < len(given) and i else False for i in range(len(rows))]
        whole_page = _cuts(rows, glue, spec, spec.rows, False)[-1].offset < spec.columns
        while True:
            cuts = _cuts(rows, glue, spec, free, bool(columns[-1]))
            position = (len(columns) - 1) % spec.columns
            on_page = position + cuts[-1].offset < spec.columns
            if on_page or not whole_page or (position == 0 and not columns[-1]):
                break
            new_column()  # it would run onto the next page: start it further on
        start = len(columns) - 1
        for cut in cuts:
            while len(columns) - 1 < start + cut.offset:
                new_column()
            segment = Segment(order_id, cut.first, cut.last, cut.continued, cut.continues)
            columns[-1].append(segment)
            free -= segment.rows(spec, rows)
        if free <= 0:
            new_column()
    if not columns[-1] and len(columns) > 1:
        columns.pop()
    pages = [
        tuple(tuple(col) for col in columns[i : i + spec.columns])
        for i in range(0, len(columns), spec.columns)
    ]
    return pages or [((),)]
