"""One truth about how urgent a ticket is: the colour, the word (HURRY / LATE), the late
count in the status bar and the order of the tickets all come from :func:`assess`.

The model, in the words the docs use:

* A ticket with a **promise** (the order's pickup time) must be finished ``finish_margin_s``
  before it: that moment is its *finish-by*. It is LATE from its finish-by on, HURRY within
  ``hurry_s`` of it, and HURRY too once its age passes the kitchen's own late threshold
  (the kitchen's target is missed, the customer's promise still holds). Otherwise on time.
* A ticket **without a promise** ages on the kitchen's thresholds alone: HURRY from
  ``caution_s``, LATE from ``late_s`` (per order type). So does an ASAP order whose promise
  lies more than ``MINUTES_BOUND_S`` ahead: no ASAP order is promised that far out, so a
  clock (ours, the channel's) is wrong, and the ticket must still turn LATE.
* A **scheduled** order waits UPCOMING until its start-by (promise minus
  ``scheduled_lead_s``), then counts like any other. It leaves UPCOMING as soon as either
  clock says its start-by has come: the monotonic clock (immune to NTP steps) or the wall
  clock (which NTP corrects after a Pi boots with a wrong time), so a clock that was wrong
  when the order arrived can never keep it hidden past its promise.
* Ages run on the monotonic clock (they never jump); promises are wall-clock moments set by
  Deliverect in UTC, so they are compared with the wall clock.
* Tickets are ordered by the moment each becomes LATE: finish-by for a promise, arrival plus
  the late threshold without one; ties by arrival. A LATE ticket never sorts after one that
  is not late.

Pure: no I/O, time passed in as an :class:`Instant`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kds_device.domain.clock import Instant
from kds_device.domain.order import Order
from kds_device.domain.ticket import AgeClass, AgeThresholds

#: Past this distance from the promise a tile names the promised clock time ("due 13:05")
#: instead of a count of minutes: "10736 min over" helps nobody, and usually means a clock
#: (ours, the channel's) is wrong.
MINUTES_BOUND_S = 90 * 60.0


@dataclass(frozen=True)
class UrgencyRules:
    """The settings :func:`assess` needs (from :class:`BoardSettings`)."""

    thresholds: AgeThresholds
    finish_margin_s: float = 120.0
    hurry_s: float = 300.0
    scheduled_lead_s: float = 20 * 60.0


@dataclass(frozen=True)
class Urgency:
    """How urgent one ticket is at one moment, and the figures that say why."""

    level: AgeClass
    elapsed_s: float  # on the ticket's timer; negative while a scheduled order is upcoming
    to_promise_s: float | None  # promised time minus now; None without a promise
    promised: datetime | None

    @property
    def late(self) -> bool:
        return self.level is AgeClass.LATE


def timer_start_mono(
    order: Order, arrived_wall: datetime, arrived_mono: float, lead_s: float
) -> float:
    """When the ticket's timer starts on the monotonic clock: arrival, or for a scheduled
    order its start-by as seen from the wall clock at arrival."""
    promised = order.promised_time
    if order.asap or promised is None:
        return arrived_mono
    start = promised - timedelta(seconds=lead_s)
    return arrived_mono + max(0.0, (start - arrived_wall).total_seconds())


def assess(order: Order, start_mono: float, now: Instant, rules: UrgencyRules) -> Urgency:
    """The urgency of ``order`` whose timer started at ``start_mono``, at ``now``."""
    promised = order.promised_time
    elapsed = now.mono - start_mono
    if not order.asap and promised is not None:
        start_by = promised - timedelta(seconds=rules.scheduled_lead_s)
        wall_elapsed = (now.wall - start_by).total_seconds()
        if elapsed < 0 and wall_elapsed < 0:
            return Urgency(
                AgeClass.UPCOMING,
                max(elapsed, wall_elapsed),
                (promised - now.wall).total_seconds(),
                promised,
            )
        if elapsed < 0:
            elapsed = wall_elapsed  # the wall clock was corrected since it arrived
    limits = rules.thresholds
    to_promise = (promised - now.wall).total_seconds() if promised is not None else None
    if to_promise is None or (order.asap and to_promise > MINUTES_BOUND_S):
        # no promise, or one no ASAP order can have (a clock is wrong): the age decides
        if elapsed >= limits.late_s:
            level = AgeClass.LATE
        elif elapsed >= limits.caution_s:
            level = AgeClass.CAUTION
        else:
            level = AgeClass.ON_TIME
        return Urgency(level, elapsed, to_promise, promised)
    to_finish = to_promise - rules.finish_margin_s
    if to_finish <= 0:
        level = AgeClass.LATE
    elif to_finish <= rules.hurry_s or elapsed >= limits.late_s:
        level = AgeClass.CAUTION
    else:
        level = AgeClass.ON_TIME
    return Urgency(level, elapsed, to_promise, promised)


def late_at(order: Order, arrived_wall: datetime, rules: UrgencyRules) -> datetime:
    """The wall-clock moment the ticket becomes LATE: the sort key of the board. An ASAP
    promise too far from the arrival to believe counts as none (as in :func:`assess`)."""
    promised = order.promised_time
    by_age = arrived_wall + timedelta(seconds=rules.thresholds.late_s)
    if promised is None:
        return by_age
    if order.asap and (promised - arrived_wall).total_seconds() > MINUTES_BOUND_S:
        return by_age
    return promised - timedelta(seconds=rules.finish_margin_s)
