"""Fitted header sizes come from a short ladder, so a board opens a bounded set of fonts
(pure, with a fake font: every character is 0.6 em)."""

from __future__ import annotations

import itertools

from kds_device.ui.font_ladder import LADDER, fit_px, step_down, steps
from kds_device.ui.header_fit import SLACK, HeadSizes, HeadText, plan_head
from kds_device.ui.theme import MIN_BODY_PX, Metrics


def measure(text: str, px: float) -> float:
    return len(text) * px * 0.6


def tile_sizes(window: tuple[int, int]) -> HeadSizes:
    """The header's sizes on a tile of ``window`` (as OrderTile.apply_metrics sets them)."""
    m = Metrics.for_window(*window)
    return HeadSizes(
        room=m.column_px - 2 * m.pad_px,
        gap=m.pad_px,
        id_px=m.header_id_px,
        timer_px=round(m.body_px * 1.1),
        word_px=m.body_px,
        small_px=m.body_px,
        tiny_px=m.header_tiny_px,
    )


def every_plan(size: HeadSizes) -> list[tuple[HeadText, float, float, float, float]]:
    """Plans for ids of every length, long and short names and reasons, all age words."""
    out = []
    ids = ["".join(itertools.islice(itertools.cycle("W8K3QZ"), n)) for n in range(2, 31)]
    words = [("", ""), ("HURRY", "07:39"), ("LATE", "112:05"), ("", "02:11")]
    kinds = ["PICKUP", "DRIVE-THRU", "COURIER WAITING", "DELIVERY DELIVERY DELIVERY"]
    reasons = ["", "[b]ALLERGY[/b] · Uber Eats", "Uber Eats · " + "Burger Brand " * 4]
    for display_id, (word, timer), kind, source in itertools.product(ids, words, kinds, reasons):
        for voided in (False, True):
            text = HeadText(
                display_id,
                word=word,
                timer=timer,
                kind=kind,
                name="Alexandra Featherstonehaugh",
                due="due 12:45",
                source=source,
                voided=voided,
            )
            plan = plan_head(text, size, measure)
            out.append((text, plan.title_px, plan.clock_px, plan.row2_px, plan.source_px))
    return out


def test_a_board_uses_a_few_sizes_whatever_the_ids_names_and_reasons() -> None:
    for window in ((800, 480), (1280, 800), (1920, 1080)):
        size = tile_sizes(window)
        least = max(MIN_BODY_PX, size.small_px * 0.8)  # the timer's and the id's beside a word
        ladders = [
            steps(size.id_px, size.tiny_px, size.kept),  # the id (and CANCELLED)
            steps(size.id_px, least, size.kept),  # the id beside an age word
            steps(size.small_px, size.tiny_px, size.kept),  # row 2
            steps(size.tiny_px, size.tiny_px * 0.8, size.kept),  # row 3
            [size.timer_px, size.small_px, least],  # the timer
        ]
        allowed = {int(px) for ladder in ladders for px in ladder}
        used = {int(px) for plan in every_plan(size) for px in plan[1:]}
        # any whole size before the ladder: 47, 46, 45 ... at 1920x1080
        assert used <= allowed, (window, sorted(used - allowed))
        assert len(allowed) <= 12, (window, sorted(allowed))


def test_the_display_id_is_never_cut_and_shrinks_only_as_far_as_the_ladder_needs() -> None:
    size = tile_sizes((1920, 1080))
    room = size.room - SLACK
    for text, title_px, _clock, _row2, _row3 in every_plan(size):
        if text.voided:
            continue
        id_w = measure(text.display_id, title_px)
        if measure(text.display_id, size.tiny_px) <= room:
            assert id_w <= room, (text.display_id, title_px)
        if not text.timer and title_px < size.id_px:
            # the next size up on the ladder would not have fitted
            ladder = steps(size.id_px, size.tiny_px, size.kept)
            larger = ladder[ladder.index(title_px) - 1]
            assert measure(text.display_id, larger) > room, (text.display_id, title_px)


def test_steps_are_the_ladder_and_the_kept_sizes_between_px_and_floor() -> None:
    assert steps(48, 23, keep=(42, 38.57)) == [48, 42.0, 38.0, 33.0, 29.0, 26.0, 23]
    assert steps(23, 18.4) == [23, 21.0, 18.4]
    assert steps(17, 13.6) == [17, 13.6]  # 14 is within half a step of the floor
    assert steps(12, 12) == [12]
    assert all(b / a < 1.2 for a, b in itertools.pairwise(LADDER[4:]))


def test_fit_px_takes_the_largest_step_that_fits() -> None:
    def width(px: float) -> float:
        return 10 * px

    assert fit_px(48, 23, 480, width) == 48
    assert fit_px(48, 23, 479, width) == 42  # 47 would fit: not a step
    assert fit_px(48, 23, 479, width, keep=(45,)) == 45
    assert fit_px(48, 23, 100, width) == 23  # the floor, fitting or not


def test_step_down_for_a_body_that_shrinks_until_it_fits() -> None:
    body = 38.57
    shrunk = [body]
    while (smaller := step_down(shrunk[-1], body * 0.75)) < shrunk[-1]:
        shrunk.append(smaller)
    assert shrunk == [body, 33.0, body * 0.75]
    assert step_down(20, 20) == 20
