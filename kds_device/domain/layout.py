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


@dataclass(frozen=True)
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


def paginate(tickets: Sequence[tuple[str, Sequence[int]]], spec: LayoutSpec) -> list[Page]:
    """Lay tickets (id, rows each line takes) into pages of columns, in the given order.

    A ticket that fits a fresh column is never split; one taller than a column fills the
    rest of the current column and continues at the top of the next.
    """
    columns: list[list[Segment]] = [[]]
    free = spec.rows

    def new_column() -> None:
        nonlocal free
        columns.append([])
        free = spec.rows

    for order_id, line_rows in tickets:
        rows = [max(1, r) for r in line_rows]
        need = spec.header_rows + sum(rows)
        if need > free and need <= spec.rows and columns[-1]:
            new_column()
        first, continued = 0, False
        while True:
            head = spec.continued_header_rows if continued else spec.header_rows
            if free < head + (1 if first < len(rows) else 0) and columns[-1]:
                new_column()
                continue
            room = free - head
            last = first
            while last < len(rows) and rows[last] <= room:
                room -= rows[last]
                last += 1
            if last == first and first < len(rows):
                # a single line taller than a whole column: give it the column anyway
                last = first + 1
                room = 0
            done = last >= len(rows)
            columns[-1].append(Segment(order_id, first, last, continued, not done))
            free = max(0, room)
            if done:
                break
            new_column()
            first, continued = last, True
    if not columns[-1] and len(columns) > 1:
        columns.pop()
    pages = [
        tuple(tuple(col) for col in columns[i : i + spec.columns])
        for i in range(0, len(columns), spec.columns)
    ]
    return pages or [((),)]
