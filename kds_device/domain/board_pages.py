"""The board's pages and selection: the layout it is drawn in, the rows each ticket takes, the
pages of open tickets, paging, the cursor, and who takes it when a ticket leaves.

A mixin of :class:`kds_device.domain.board.Board` (kept apart so each file stays small); it
uses the board's tickets and its UPCOMING holds. An action only ever applies to a ticket the
cook can see on the current page (:meth:`PagesMixin._target`). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kds_device.domain.board_pace import Pace
from kds_device.domain.layout import LayoutSpec, Page, paginate
from kds_device.domain.lines import TicketLine, glued
from kds_device.domain.ticket import PAGE_CHANGED, Outcome, Ticket


class PagesMixin:
    """Layout, pages and selection of the board (see the module doc)."""

    selected_id: str | None
    page_index: int
    pace: Pace
    _tickets: dict[str, Ticket]
    _spec: LayoutSpec
    _row_counter: Callable[[TicketLine], int]
    _row_cache: dict[str, list[int]]
    _pages: list[Page] | None

    if TYPE_CHECKING:  # provided by the board

        def open_tickets(self) -> list[Ticket]: ...
        def _touched(self) -> None: ...

    # ---- layout, pages, selection -------------------------------------------------------

    def set_layout(self, spec: LayoutSpec, row_counter: Callable[[TicketLine], int]) -> None:
        self._spec = spec
        self._row_counter = row_counter
        self._row_cache = {}
        self._pages = None

    @property
    def layout_spec(self) -> LayoutSpec:
        return self._spec

    def _rows_of(self, ticket: Ticket) -> list[int]:
        rows = self._row_cache.get(ticket.order_id)
        if rows is None:
            rows = [self._row_counter(line) for line in ticket.lines]
            self._row_cache[ticket.order_id] = rows
        return rows

    def line_rows(self, ticket: Ticket) -> list[int]:
        """The text rows each of the ticket's lines takes (kept while the ticket is open)."""
        return self._rows_of(ticket)

    def pages(self) -> list[Page]:
        if self._pages is None:
            open_tickets = self.open_tickets()
            self._pages = paginate(
                [(t.order_id, self._rows_of(t), glued(t.lines)) for t in open_tickets],
                self._spec,
            )
            self.page_index = min(self.page_index, len(self._pages) - 1)
            if len(self._row_cache) > len(open_tickets):  # tickets left: forget their rows
                self._row_cache = {t.order_id: self._rows_of(t) for t in open_tickets}
        return self._pages

    def current_page(self) -> Page:
        return self.pages()[self.page_index]

    def page_of(self, order_id: str) -> int | None:
        for index, page in enumerate(self.pages()):
            for column in page:
                for segment in column:
                    if segment.order_id == order_id and not segment.continued:
                        return index
        return None

    def ids_on_page(self, index: int | None = None) -> list[str]:
        """The tickets with a segment on page ``index`` (default: the current page), in
        order, each once."""
        pages = self.pages()
        page = pages[self.page_index if index is None else index]
        ids: list[str] = []
        for column in page:
            for segment in column:
                if segment.order_id not in ids:
                    ids.append(segment.order_id)
        return ids

    def on_current_page(self, order_id: str | None) -> bool:
        """True when the cook can see ``order_id`` now: a segment of it is on this page."""
        return order_id is not None and order_id in self.ids_on_page()

    def selected_on_page(self) -> str | None:
        """The selection, if it is on the current page (the only one an action may use)."""
        return self.selected_id if self.on_current_page(self.selected_id) else None

    def jump_to(self, order_id: str) -> Outcome:
        """Show the page ``order_id`` starts on and select it."""
        before = self.page_index
        outcome = self.select(order_id)
        if self.page_index != before:
            outcome.changed.add(PAGE_CHANGED)
        return outcome

    def tickets_after_page(self) -> int:
        """How many open tickets start on pages after the current one."""
        return sum(
            1
            for page in self.pages()[self.page_index + 1 :]
            for column in page
            for segment in column
            if not segment.continued
        )

    def page_next(self) -> Outcome:
        return self._go_to_page(self.page_index + 1)

    def page_previous(self) -> Outcome:
        return self._go_to_page(self.page_index - 1)

    def _go_to_page(self, index: int) -> Outcome:
        pages = self.pages()
        index = max(0, min(index, len(pages) - 1))
        if index == self.page_index:
            return Outcome()
        self.page_index = index
        first = next((s.order_id for col in pages[index] for s in col if not s.continued), None)
        if first is not None:
            self.selected_id = first
        return Outcome(changed={PAGE_CHANGED})

    def select(self, order_id: str | None) -> Outcome:
        if order_id is not None:
            ticket = self._tickets.get(order_id)
            if ticket is None or not ticket.visible or self.pace.holds(order_id):
                return Outcome()
        previous, self.selected_id = self.selected_id, order_id
        if order_id is not None:
            page = self.page_of(order_id)
            if page is not None:
                self.page_index = page
        return Outcome(changed={i for i in (previous, order_id) if i})

    def select_next(self) -> Outcome:
        return self._step(+1)

    def select_previous(self) -> Outcome:
        return self._step(-1)

    def select_first(self) -> Outcome:
        tickets = self.open_tickets()
        return self.select(tickets[0].order_id if tickets else None)

    def _step(self, delta: int) -> Outcome:
        tickets = self.open_tickets()
        if not tickets:
            return self.select(None)
        ids = [t.order_id for t in tickets]
        selected = self.selected_on_page()
        if selected is None:
            here = self.ids_on_page()  # nothing selected here: start on this page
            return self.select(here[0] if here else ids[0])
        index = ids.index(selected) + delta
        return self.select(ids[max(0, min(index, len(ids) - 1))])

    def _neighbours(self, order_id: str) -> list[str]:
        """Who takes the selection when ``order_id`` leaves: the tickets after it on this
        page, then those before it (nearest first)."""
        here = self.ids_on_page()
        if order_id not in here:
            return []
        at = here.index(order_id)
        return here[at + 1 :] + here[:at][::-1]

    def _reselect(self, candidates: list[str]) -> None:
        """After a ticket left: a neighbour on the same page, or nothing (never a ticket on
        another page: the next press must act on what the cook sees)."""
        self._touched()
        for order_id in candidates:
            ticket = self._tickets.get(order_id)
            if ticket is not None and ticket.visible and self.on_current_page(order_id):
                self.selected_id = order_id
                return
        self.selected_id = None

    def _ensure_selection(self) -> None:
        """Keep the cursor on a visible ticket of the current page (or on nothing)."""
        if self.selected_id is not None:
            ticket = self._tickets.get(self.selected_id)
            if ticket is not None and ticket.visible:
                return
        here = self.ids_on_page() if self.open_tickets() else []
        self.selected_id = here[0] if here else None

    def _target(self, order_id: str | None) -> Ticket | None:
        """The ticket an action applies to: only one the cook can see on this page."""
        order_id = order_id or self.selected_id
        ticket = self._tickets.get(order_id) if order_id else None
        if ticket is None or not ticket.visible or not self.on_current_page(order_id):
            return None
        return ticket
