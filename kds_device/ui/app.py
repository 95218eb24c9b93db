"""The kitchen board app: drains the inbox on the main thread, applies messages and the cook's
actions to the :class:`Board`, saves what changed, hands bumps to the status sink, plays the
sounds and updates the screen incrementally.

Threading rule: other threads only ``inbox.post()``; one ``Clock.create_trigger`` wakes the
main loop, which drains everything posted so far in one pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kds_device.adapters.gpio_buttons import GpioBumpBar, start_gpio_bumpbar
from kds_device.adapters.store import BoardStore
from kds_device.adapters.systemd_notify import notify
from kds_device.config import DeviceConfig
from kds_device.domain.actions import Action, apply_action
from kds_device.domain.board import PAGE_CHANGED, Alert, Board, Outcome
from kds_device.domain.clock import Instant
from kds_device.domain.events import Event
from kds_device.domain.order import Cancel, parse_webhook
from kds_device.runtime.inbox import Inbox
from kds_device.runtime.messages import (
    ActionRequested,
    EventsArrived,
    Link,
    LinkChanged,
    Message,
    OrderArrived,
    OutboxChanged,
    StatusSink,
)
from kds_device.ui.board_screen import BoardScreen
from kds_device.ui.crisp import crisp_default_texture
from kds_device.ui.keys import KeyInput
from kds_device.ui.sound import Sounds
from kds_device.ui.status_view import LinkAlarm, recall_entries, status_view, undo_text
from kds_device.ui.theme import Palette

log = logging.getLogger(__name__)

LAST_SEQ = "last_seq"
LAST_ORDER = "last_order_wall"
PRUNE_EVERY_S = 600.0


def system_now() -> Instant:
    return Instant(datetime.now(UTC), time.monotonic())


class BoardApp(App):
    """The board. ``perform(action)`` is the one way in for every action (touch, keys, bump
    bar); ``open_screen``/``close_screen`` show another screen (the learn screen) over it."""

    title = "Kitchen display"

    def __init__(
        self,
        config: DeviceConfig,
        inbox: Inbox[Message],
        sink: StatusSink,
        data_dir: Path | None = None,
        now: Callable[[], Instant] = system_now,
        link: LinkChanged | None = None,
        tz: tzinfo | None = None,
        sounds: Sounds | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.device = config
        self.inbox = inbox
        self.sink = sink
        self.data_dir = data_dir
        self.now = now
        self.tz = tz
        self.link = link or LinkChanged(Link.OFFLINE, now().mono, "starting")
        self.sounds = sounds or Sounds(config.display.sound)
        self.board = Board(config.board)
        self.store: BoardStore | None = None
        self.last_seq = 0
        self._saved_seq = 0
        self.pending_events: dict[int, Event] = {}
        self.outbox_pending = 0
        self.last_order_wall: datetime | None = None
        self.first_frame_at: float | None = None
        connection = config.connection
        self.alarm = LinkAlarm(connection.offline_banner_s, connection.offline_alarm_s)
        self.screen: BoardScreen
        self.keys: KeyInput | None = None
        self.gpio: GpioBumpBar | None = None  # GPIO bump-bar buttons, when configured
        self._main = threading.get_ident()
        self._last_prune = now().mono
        self._events: list[Any] = []
        #: Orders to put on a fresh board at start, each with its age in seconds (the demo).
        self.preload: list[tuple[Mapping[str, Any], float]] = []

    # ---- lifecycle ----------------------------------------------------------------------

    def build(self) -> ScreenManager:
        Window.clearcolor = Palette.rgba(Palette.BACKGROUND)
        crisp_default_texture()
        self.screen = BoardScreen(self.board, self.now, self.device.display.channels, self.tz)
        self.screen.on_tile_tap = self.tap
        self.screen.status_bar.bind(on_button=lambda _bar, name: self._button(name))
        self.screen.undo_bar.bind(on_undo=lambda _bar: self.perform(Action.UNDO))
        manager = ScreenManager(transition=NoTransition())
        board_screen = Screen(name="board")
        board_screen.add_widget(self.screen)
        manager.add_widget(board_screen)
        return manager

    def on_start(self) -> None:
        self._open_store()
        self.screen.set_window_size(*Window.size)
        self._preload()
        self._refresh_chrome()
        Window.bind(on_resize=self._on_resize, on_key_down=self._on_key_down)
        Window.bind(on_key_up=self._on_key_up, on_flip=self._on_first_flip)
        try:
            self.keys = KeyInput(self.device.bumpbar, self.data_dir, self.perform, self.open_learn)
        except Exception:
            log.exception("key map unavailable; keyboard input disabled")
        # gpiozero calls back on its own threads: the buttons only post to the inbox.
        self.gpio = start_gpio_bumpbar(
            self.device.bumpbar,
            lambda action, source: self.inbox.post(ActionRequested(action, source)),
        )
        trigger = Clock.create_trigger(self._drain, 0)
        self._events = [
            trigger,
            Clock.schedule_interval(self.tick, 1.0),
            Clock.schedule_interval(self._poll_keys, 0.1),
        ]
        self.inbox.set_wake(trigger)
        try:
            from kds_device.adapters.watchdog import start_watchdog

            start_watchdog(Clock)
        except ImportError:
            log.warning("watchdog module missing; systemd watchdog not fed")

    def on_stop(self) -> None:
        if self.gpio is not None:
            self.gpio.close()
            self.gpio = None
        for event in self._events:
            event.cancel()
        self.inbox.set_wake(lambda: None)
        Window.unbind(on_resize=self._on_resize, on_key_down=self._on_key_down)
        Window.unbind(on_key_up=self._on_key_up, on_flip=self._on_first_flip)
        if self.store is not None:
            self.store.close()
            self.store = None

    def _open_store(self) -> None:
        if self.data_dir is None:
            return
        try:
            self.store = BoardStore(self.data_dir / "board.db")
            self.board.restore(self.store.load(self.now()))
            self.last_seq = self._saved_seq = int(self.store.get_meta(LAST_SEQ) or 0)
            last = self.store.get_meta(LAST_ORDER)
            self.last_order_wall = datetime.fromisoformat(last) if last else None
        except Exception:
            log.exception("board store unusable; running without persistence")
            self.store = None

    def _preload(self) -> None:
        if not self.preload or self.board.open_tickets():
            return
        now, outcome = self.now(), Outcome()
        for payload, age_s in self.preload:
            try:
                outcome.merge(self.board.receive_order(payload, now.later(-age_s)))
            except Exception:
                log.exception("preloaded order skipped")
        self.preload = []
        self._commit(outcome)

    def _on_first_flip(self, *_args: Any) -> None:
        Window.unbind(on_flip=self._on_first_flip)
        self.first_frame_at = time.monotonic()
        notify("READY=1")

    def _on_resize(self, _window: Any, width: int, height: int) -> None:
        self.screen.set_window_size(width, height)

    # ---- screens (the learn screen plugs in here) ----------------------------------------

    def open_screen(self, screen: Screen) -> None:
        """Show ``screen`` instead of the board; keys stop driving the board meanwhile."""
        manager = self.root
        if screen.name in manager.screen_names:
            manager.remove_widget(manager.get_screen(screen.name))
        manager.add_widget(screen)
        manager.current = screen.name
        if self.keys is not None:
            self.keys.reset()
            self.keys.enabled = False

    def close_screen(self) -> None:
        """Back to the board (call from the other screen when it is done)."""
        self.root.current = "board"
        if self.keys is not None:
            self.keys.reset()
            self.keys.enabled = True

    def open_learn(self) -> None:
        """Open the bump bar's learn screen, when that module is installed."""
        try:
            from kds_device.ui import learn_screen
        except ImportError:
            log.info("no learn screen in this build")
            return
        opener = getattr(learn_screen, "open_learn_screen", None)
        if callable(opener):
            opener(self)

    # ---- the main-thread pass -----------------------------------------------------------

    def _drain(self, *_args: Any) -> None:
        outcome = Outcome()
        acks: list[Callable[[], object]] = []
        for message in self.inbox.drain():
            try:
                outcome.merge(self._handle(message))
            except Exception:
                log.exception("message %s skipped", type(message).__name__)
            if isinstance(message, EventsArrived) and callable(message.ack):
                acks.append(message.ack)
        if not self._commit(outcome):
            return  # not saved: unacknowledged MQTT messages come again
        for ack in acks:
            try:
                ack()
            except Exception:
                log.exception("event ack failed")

    def _handle(self, message: Message) -> Outcome:
        now = self.now()
        if isinstance(message, OrderArrived):
            parsed = parse_webhook(message.payload)
            if isinstance(parsed, Cancel):
                return self.board.receive_cancel(parsed, now)
            return self.board.receive_order(message.payload, now)
        if isinstance(message, EventsArrived):
            return self._apply_events(message.events, now, message.through)
        if isinstance(message, LinkChanged):
            self.link = message
        elif isinstance(message, OutboxChanged):
            self.outbox_pending = message.pending
        elif isinstance(message, ActionRequested):
            return self._apply(message.action)
        return Outcome()

    def _apply_events(
        self, events: tuple[Event, ...], now: Instant, through: int | None = None
    ) -> Outcome:
        """Strictly in ``seq`` order: duplicates and old events are ignored, events after a
        gap wait (bounded) until the link fetches the missing ones. An HTTP answer is complete
        up to ``through``: holes below it are pruned events, stepped over."""
        outcome = Outcome()
        for event in events:
            if event.seq > self.last_seq:
                self.pending_events[event.seq] = event
        if through is not None and through > self.last_seq:
            for seq in sorted(s for s in self.pending_events if s <= through):
                outcome.merge(self._apply_one(self.pending_events.pop(seq), now))
            self.last_seq = through
        while self.last_seq + 1 in self.pending_events:
            outcome.merge(self._apply_one(self.pending_events.pop(self.last_seq + 1), now))
        if self.pending_events:
            log.warning(
                "events after a gap held back: have %d, waiting for %d (%d held)",
                self.last_seq,
                self.last_seq + 1,
                len(self.pending_events),
            )
            for seq in sorted(self.pending_events)[:-5000]:
                del self.pending_events[seq]
        return outcome

    def _apply_one(self, event: Event, now: Instant) -> Outcome:
        self.last_seq = event.seq
        try:
            return self.board.apply_event(event, now)
        except Exception:
            log.exception("event %s (%s) cannot be applied; skipped", event.seq, event.type)
            return Outcome()

    def _commit(self, outcome: Outcome) -> bool:
        """Hand bumps to the outbox, then save the board: a crash in between leaves a bump
        that is sent and a board that catches up from its echo, never a bump shown as done
        that nobody sends. False when the board could not be saved (events stay unacked)."""
        now = self.now()
        if Alert.NEW_ORDER in outcome.alerts:
            self.last_order_wall = now.wall
        for change in outcome.status_changes:
            try:
                self.sink.submit(change)
            except Exception:
                log.exception("status sink refused %s", change)
        saved = True
        ids = outcome.changed - {PAGE_CHANGED}
        if self.store is not None and (ids or outcome.removed or self.last_seq != self._saved_seq):
            tickets = [t for t in (self.board.ticket(i) for i in ids) if t is not None]
            meta = {LAST_SEQ: str(self.last_seq)}
            if self.last_order_wall is not None:
                meta[LAST_ORDER] = self.last_order_wall.isoformat()
            try:
                self.store.save(tickets, meta)
                if outcome.removed:
                    self.store.delete(outcome.removed)
                self._saved_seq = self.last_seq
            except Exception:
                saved = False
                log.exception("saving the board failed")
        if Alert.ORDER_VOIDED in outcome.alerts:
            self.sounds.alert()
        elif Alert.NEW_ORDER in outcome.alerts:
            self.sounds.chime()
        if outcome.changed or outcome.removed:
            self.screen.render(outcome.changed | outcome.removed)
        self._refresh_chrome()
        return saved

    # ---- the cook's actions -------------------------------------------------------------

    def perform(self, action: Action) -> None:
        """Do ``action`` now (main thread); from another thread it is posted to the inbox."""
        if threading.get_ident() != self._main:
            self.inbox.post(ActionRequested(action, "thread"))
            return
        self._commit(self._apply(action))

    def _apply(self, action: Action) -> Outcome:
        now = self.now()
        if self.screen.recall_open:
            return self._recall_action(action, now)
        if action is Action.RECALL:
            self._open_recall()
            return Outcome()
        if action is Action.ALL_DAY:
            self.screen.open_all_day(not self.screen.all_day_open)
            return Outcome()
        return apply_action(self.board, action, now)

    def _recall_action(self, action: Action, now: Instant) -> Outcome:
        """With the recall list open, the bump bar moves in the list and restores."""
        panel = self.screen.recall
        assert panel is not None
        if action in (Action.NEXT, Action.PREVIOUS):
            panel.move_cursor(1 if action is Action.NEXT else -1)
            return Outcome()
        if action is Action.BUMP:  # RECALL again closes the list (below)
            order_id = panel.cursor_order_id()
            self.screen.close_recall()
            return self.board.recall(order_id, now) if order_id else Outcome()
        self.screen.close_recall()
        return Outcome()

    def _open_recall(self) -> None:
        panel = self.screen.open_recall(recall_entries(self.board, self.now(), self.tz))
        panel.unbind(on_pick=self._recall_picked, on_close=self._recall_closed)
        panel.bind(on_pick=self._recall_picked, on_close=self._recall_closed)

    def _recall_picked(self, _panel: Any, order_id: str) -> None:
        self.screen.close_recall()
        self._commit(self.board.recall(order_id, self.now()))

    def _recall_closed(self, _panel: Any) -> None:
        self.screen.close_recall()

    def tap(self, order_id: str) -> None:
        """A tap on a tile: clears a cancelled ticket, bumps the selected one, else selects."""
        ticket = self.board.ticket(order_id)
        if ticket is None:
            return
        now = self.now()
        if ticket.voided:
            outcome = self.board.acknowledge(order_id)
        elif self.board.selected_id == order_id:
            outcome = self.board.bump(now, order_id)
        else:
            outcome = self.board.select(order_id)
        self._commit(outcome)

    def _button(self, name: str) -> None:
        if name == "page":  # the bar's one page button: onwards, then round to the first
            last = self.board.page_index >= len(self.board.pages()) - 1
            self.perform(Action.FIRST if last else Action.PAGE_NEXT)
            return
        self.perform(Action(name))

    # ---- keys, the clock ----------------------------------------------------------------

    def _on_key_down(
        self, _window: Any, keycode: int, _scan: int, text: str | None, *_a: Any
    ) -> bool:
        return self.keys.key_down(keycode, text) if self.keys else False

    def _on_key_up(self, _window: Any, keycode: int, *_args: Any) -> bool:
        return self.keys.key_up(keycode) if self.keys else False

    def _poll_keys(self, *_args: Any) -> None:
        if self.keys is not None:
            self.keys.poll()

    def tick(self, *_args: Any) -> None:
        """The once-a-second update (timers, status, banner); tests and the bench call it
        after moving their clock."""
        now = self.now()
        self.screen.tick(now)
        if now.mono - self._last_prune > PRUNE_EVERY_S:
            self._last_prune = now.mono
            self._commit(self.board.prune(now))
        self._refresh_chrome()

    def _refresh_chrome(self) -> None:
        """Status bar, undo bar, offline banner and alarm (cheap; every tick and pass)."""
        now = self.now()
        self.screen.status_bar.show(
            status_view(
                self.board,
                now,
                self.device.display.station,
                self.link,
                self.outbox_pending,
                self.last_order_wall,
                self.tz,
            )
        )
        self.screen.undo_bar.text = undo_text(self.board, now)
        self.screen.banner_text = self.alarm.banner(self.link, now.mono)
        if self.alarm.due(self.link, now.mono):
            self.sounds.alert()
