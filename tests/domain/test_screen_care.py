"""Screen care's decisions on an injected clock: shift, dim, off outside hours, the lock."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from kds_device.domain.screen_care import (
    MAX_SHIFT_PX,
    CareSettings,
    Look,
    ScreenCare,
    Verdict,
    parse_hours,
    shift_path,
)

MONDAY_NOON = datetime(2026, 11, 30, 12, 0)  # a Monday


@pytest.mark.parametrize("asked", [0, 1, 3, 4, 9, 400])
def test_shift_never_exceeds_its_bound_and_moves_a_pixel_at_a_time(asked: int) -> None:
    care = ScreenCare(CareSettings(shift_px=asked, shift_every_s=60), started=0.0)
    bound = min(asked, MAX_SHIFT_PX)
    seen = {care.shift}
    previous = care.shift
    for minute in range(1, 2000):
        state = care.update(minute * 60.0, MONDAY_NOON, 3, finger_down=False)
        dx, dy = state.shift
        assert abs(dx) <= bound and abs(dy) <= bound
        assert abs(dx - previous[0]) + abs(dy - previous[1]) <= 1
        previous = state.shift
        seen.add(state.shift)
    assert len(seen) == (2 * bound + 1) ** 2  # the whole square is used, evenly over time


def test_shift_path_is_a_closed_loop_from_the_middle() -> None:
    path = shift_path(4)
    assert path[0] == (0, 0)
    loop = [*path, path[0]]
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in pairwise(loop))


def test_shift_waits_while_a_finger_is_down() -> None:
    care = ScreenCare(CareSettings(shift_every_s=60), started=0.0)
    first = care.shift
    assert care.update(61.0, MONDAY_NOON, 1, finger_down=True).shift == first
    assert care.update(300.0, MONDAY_NOON, 1, finger_down=True).shift == first
    assert care.update(301.0, MONDAY_NOON, 1, finger_down=False).shift != first


def test_dims_after_a_quiet_spell_with_no_open_tickets_and_wakes_on_input() -> None:
    care = ScreenCare(CareSettings(dim_after_s=600), started=0.0)
    assert care.update(599.0, MONDAY_NOON, 0, False).look is Look.AWAKE
    assert care.update(600.0, MONDAY_NOON, 0, False).look is Look.DIM
    assert care.input(601.0) is Verdict.WAKE  # the waking touch does nothing else
    assert care.update(601.0, MONDAY_NOON, 0, False).look is Look.AWAKE
    assert care.input(602.0) is Verdict.ACT  # the next one acts
    assert care.update(1201.0, MONDAY_NOON, 0, False).look is Look.AWAKE
    assert care.update(1202.0, MONDAY_NOON, 0, False).look is Look.DIM  # quiet from 602


def test_open_tickets_keep_it_awake_and_the_quiet_spell_starts_when_the_last_goes() -> None:
    care = ScreenCare(CareSettings(dim_after_s=600), started=0.0)
    for t in range(0, 3000):  # the app's once-a-second update
        assert care.update(float(t), MONDAY_NOON, 2, False).look is Look.AWAKE
    assert care.update(3000.0, MONDAY_NOON, 0, False).look is Look.AWAKE  # bumped by another
    assert care.update(3598.0, MONDAY_NOON, 0, False).look is Look.AWAKE
    assert care.update(3599.5, MONDAY_NOON, 0, False).look is Look.DIM  # 600 s after 2999
    assert care.update(3601.0, MONDAY_NOON, 1, False).look is Look.AWAKE  # an order


def test_an_order_wakes_the_screen() -> None:
    care = ScreenCare(CareSettings(dim_after_s=60), started=0.0)
    assert care.update(60.0, MONDAY_NOON, 0, False).look is Look.DIM
    care.activity(61.0)
    assert care.look is Look.AWAKE
    assert care.input(62.0) is Verdict.ACT  # awake: a touch acts at once


def test_dim_after_zero_never_dims() -> None:
    care = ScreenCare(CareSettings(dim_after_s=0), started=0.0)
    assert care.update(10**6, MONDAY_NOON, 0, False).look is Look.AWAKE


def test_off_outside_hours_and_on_at_opening_time() -> None:
    hours, problems = parse_hours("10:00-23:00")
    assert problems == [] and hours is not None
    care = ScreenCare(CareSettings(hours=hours, off_after_s=60, dim_after_s=600), started=0.0)
    night = datetime(2026, 11, 30, 23, 30)
    assert care.update(30.0, night, 0, False).look is Look.AWAKE  # a minute's grace
    state = care.update(60.0, night, 0, False)
    assert state.look is Look.OFF and not state.open_hours
    care.activity(100.0)  # an order in the night: lit (it also keeps it lit while open)
    assert care.update(101.0, night, 1, False).look is Look.AWAKE
    assert care.update(160.0, night, 0, False).look is Look.AWAKE
    assert care.update(161.0, night, 0, False).look is Look.OFF  # quiet again
    assert care.input(162.0) is Verdict.WAKE  # the waking touch does nothing else
    assert care.update(221.0, night, 0, False).look is Look.AWAKE
    assert care.update(222.0, night, 0, False).look is Look.OFF
    morning = datetime(2026, 12, 1, 10, 0)
    state = care.update(30000.0, morning, 0, False)
    assert state.look is Look.AWAKE and state.open_hours  # opening time lights it


def test_opening_hours_per_weekday_overnight_and_closed() -> None:
    hours, problems = parse_hours(
        {"default": "11:00-22:00", "fri": "11:00-02:00", "sun": "closed", "tue": "7:30-9:00"}
    )
    assert problems == [] and hours is not None
    friday = datetime(2026, 12, 4)
    assert hours.is_open(friday.replace(hour=23, minute=59))
    assert hours.is_open((friday + timedelta(days=1)).replace(hour=1, minute=59))  # Sat 01:59
    assert not hours.is_open((friday + timedelta(days=1)).replace(hour=2))
    assert not hours.is_open((friday + timedelta(days=2)).replace(hour=12))  # Sunday closed
    assert hours.is_open(datetime(2026, 12, 1, 8, 0))  # Tuesday's own hours
    assert not hours.is_open(datetime(2026, 12, 1, 12, 0))
    assert hours.is_open(datetime(2026, 12, 2, 21, 59)) and not hours.is_open(
        datetime(2026, 12, 2, 22, 0)
    )
    whole, _ = parse_hours("00:00-24:00")
    assert whole is not None and hours is not None
    assert all(whole.is_open(datetime(2026, 12, 1, h, 30)) for h in range(24))


@pytest.mark.parametrize(
    "raw",
    ["10-23", "25:00-26:00", "10:00-10:00", "10:60-11:00", "²:00-10:00", 42, "9" * 300, {"x": 1}],
)
def test_unreadable_hours_are_reported_and_leave_the_screen_on(raw: object) -> None:
    hours, problems = parse_hours(raw)
    assert problems, raw
    assert hours is None or hours.is_open(MONDAY_NOON)


def test_no_hours_means_always_on() -> None:
    assert parse_hours("") == (None, [])
    assert parse_hours(None) == (None, [])
    care = ScreenCare(CareSettings(hours=None, off_after_s=0), started=0.0)
    assert care.update(10**6, datetime(2026, 12, 1, 3, 0), 0, False).look is not Look.OFF


def test_cleaning_lock_swallows_input_and_ends_by_itself() -> None:
    care = ScreenCare(CareSettings(lock_s=30, dim_after_s=10), started=0.0)
    assert care.lock(5.0)
    assert not care.lock(6.0)  # pressing it again does not lengthen it
    for t in (5.0, 10.0, 34.9):
        assert care.input(t) is Verdict.LOCKED
        state = care.update(t, MONDAY_NOON, 0, False)
        assert state.locked and state.look is Look.AWAKE  # never dim under the lock
    assert care.update(20.0, MONDAY_NOON, 0, False).lock_left_s == pytest.approx(15.0)
    state = care.update(35.0, MONDAY_NOON, 0, False)
    assert not state.locked and state.look is Look.AWAKE
    assert care.input(35.5) is Verdict.ACT
    assert care.update(44.0, MONDAY_NOON, 0, False).look is Look.AWAKE  # quiet from 35.5
    assert care.update(46.0, MONDAY_NOON, 0, False).look is Look.DIM
