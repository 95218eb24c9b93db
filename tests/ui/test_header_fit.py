"""How a tile header shares its rows (pure, with a fake font: every character is 0.6 em)."""

from __future__ import annotations

from kds_device.ui.header_fit import (
    NAME_CHARS,
    SLACK,
    HeadPlan,
    HeadSizes,
    HeadText,
    plain,
    plan_head,
)
from kds_device.ui.scripts import display_markup


def measure(text: str, px: float) -> float:
    return len(text) * px * 0.6


def sizes(room: float) -> HeadSizes:
    return HeadSizes(room=room, gap=8, id_px=30, timer_px=26, word_px=18, small_px=20, tiny_px=12)


def row1_width(plan: HeadPlan, text: HeadText, size: HeadSizes) -> float:
    clock = plain(plan.clock)
    word_w = measure(f"{text.word} ", size.word_px) if text.word and text.word in clock else 0.0
    return (
        measure(text.display_id, plan.title_px)
        + size.gap
        + word_w
        + measure(text.timer, plan.clock_px)
    )


LATE = HeadText(
    "Y4TTQ", word="HURRY", timer="07:39", kind="DELIVERY", name="Leonardo B.", due="due 4 min"
)


def test_everything_in_its_place_when_there_is_room() -> None:
    plan = plan_head(LATE, sizes(600), measure)
    assert "HURRY" in plan.clock and plan.title_px == 30 and plan.clock_px == 26
    assert "Leonardo B." in plan.who and "HURRY" not in plan.due


def test_the_age_word_stays_beside_the_timer_while_the_id_can_shrink_to_body_size() -> None:
    size = sizes(200)  # id 90 + gap 8 + word 64.8 + timer 78 > 196: the id and timer give way
    plan = plan_head(LATE, size, measure)
    assert "HURRY" in plan.clock and "HURRY" not in plan.due
    assert plan.title_px >= size.small_px and plan.clock_px >= size.small_px, "body size"
    assert row1_width(plan, LATE, size) <= size.room
    narrow = sizes(150)  # not even at body size: the word is said in row 2 instead
    plan = plan_head(LATE, narrow, measure)
    assert "HURRY" not in plan.clock and "HURRY" in plan.due
    assert row1_width(plan, LATE, narrow) <= narrow.room


def test_then_the_timer_shrinks_then_the_id() -> None:
    long_id = HeadText("ABCDEFGHJKLM", word="LATE", timer="12:05", kind="PICKUP", due="due now")
    size = sizes(230)  # not even the id at 18 px, the word and the timer at 18 px
    plan = plan_head(long_id, size, measure)
    assert plan.clock_px == size.small_px and plan.title_px < size.id_px
    assert row1_width(plan, long_id, size) <= size.room
    assert "ABCDEFGHJKLM" in plan.title and "LATE" in plan.due


def test_without_an_age_word_the_id_still_comes_first() -> None:
    on_time = HeadText("ABCDEFGHJKLM", timer="02:11", kind="PICKUP", due="due 9 min")
    size = sizes(250)
    plan = plan_head(on_time, size, measure)
    assert plan.title_px < size.id_px and row1_width(plan, on_time, size) <= size.room


def test_a_long_reason_gets_smaller_before_it_is_cut() -> None:
    text = HeadText("A1", voided=True, source="[b]Reason:[/b] Customer changed their mind")
    plan = plan_head(text, sizes(230), measure)
    assert plan.source_px < 12 and measure(plain(text.source), plan.source_px) <= 226


def test_the_name_comes_before_the_due_time_which_moves_to_row_3() -> None:
    # kind 96 + "  Leon..." 108 + gap 8 + "due 4 min" 108 > 316: the due time moves down
    plan = plan_head(LATE, sizes(320), measure)
    assert "Leonardo B." in plan.who and plan.row2_px == 20, "the name, at body size"
    assert plan.due == "" and plan.source.startswith("due 4 min")
    roomy = plan_head(LATE, sizes(700), measure)
    assert "Leonardo" in roomy.who and roomy.due == "due 4 min"
    # not even "  Leon..." beside the order type: hidden rather than cut to nothing
    assert plan_head(LATE, sizes(190), measure).who == "[b]DELIVERY[/b]"


def test_a_table_number_is_shown_whole_or_not_at_all() -> None:
    eat_in = HeadText("A1", timer="01:00", kind="EAT-IN", table="14", due="due 16 min")
    assert plan_head(eat_in, sizes(600), measure).who == "[b]EAT-IN[/b]  Table 14"
    # kind 72 + gap 8 + due 120 leaves 96: "  Table 14" (120) does not fit, "  T14" does
    assert plan_head(eat_in, sizes(300), measure).who == "[b]EAT-IN[/b]  T14"
    narrow = plan_head(eat_in, sizes(240), measure)  # the table first, the due time below
    assert narrow.who == "[b]EAT-IN[/b]  Table 14" and narrow.source == "due 16 min"
    assert plan_head(eat_in, sizes(120), measure).who == "[b]EAT-IN[/b]"


def test_order_type_at_body_size_and_due_always_in_full() -> None:
    text = HeadText("A1", word="LATE", timer="09:00", kind="DRIVE-THRU", due="[b]12 min over[/b]")
    size = sizes(220)
    plan = plan_head(text, size, measure)
    assert plan.row2_px == size.small_px and plan.who == "[b]DRIVE-THRU[/b]"
    assert plain(plan.source) == "12 min over"
    assert measure(plain(plan.source), plan.source_px) <= size.room


def test_cancelled_is_as_large_as_the_id() -> None:
    plan = plan_head(HeadText("Y4TTQ", voided=True), sizes(250), measure)
    assert "CANCELLED" in plan.clock and plan.clock_px == plan.title_px
    assert measure("Y4TTQ", plan.title_px) + measure("CANCELLED", plan.clock_px) + 8 <= 250
    assert "HOLD TO CLEAR" in plan.who


def test_order_text_is_escaped() -> None:
    plan = plan_head(HeadText("[b]X", kind="PICKUP", name="[i]Bob"), sizes(900), measure)
    assert "&bl;b&br;X" in plan.title and "&bl;i&br;Bob" in plan.who


def test_the_tabular_plan_equals_the_full_plan_for_every_timer() -> None:
    """The cached plan (per timer shape) puts each tick's digits where a full plan would."""
    from dataclasses import replace

    from kds_device.ui.header_fit import plan_head_tabular

    for room in (600, 200, 150):
        for timer in ("07:39", "00:00", "12:01", "1:02:03", "-04:10"):
            for word in ("HURRY", ""):
                text = replace(LATE, timer=timer, word=word)
                assert plan_head_tabular(text, sizes(room), measure) == plan_head(
                    text, sizes(room), measure
                )


def test_a_continuation_mark_without_room_in_row_1_goes_to_row_3() -> None:
    text = HeadText("ABCDEFGHJK", marks=("cont. »", "»"), timer="12:05", kind="PICKUP")
    roomy = plan_head(text, sizes(600), measure)
    assert "cont. »" in roomy.title and "»" not in roomy.source
    narrow = plan_head(text, sizes(230), measure)
    assert "»" not in narrow.title and narrow.source.startswith("[b]cont. »[/b]")


def test_a_long_right_to_left_name_keeps_its_beginning_in_reading_order() -> None:
    """Cut before display: a right-to-left name shortened in display order (as Kivy
    shortens, from the right) would lose its first word instead of its last. A
    left-to-right name stays whole in the plan: Kivy cuts its end, as late as it can."""
    size = sizes(320)
    px = 20.0  # row 2 is at body size here
    room = size.room - SLACK - measure("PICKUP", px)
    for name in ("فاطمة عبد الرحمن الزهراني", "דנה כהן-לוינסון מרמת גן"):
        plan = plan_head(HeadText("Y4TTQ", timer="07:39", kind="PICKUP", name=name), size, measure)
        assert plan.row2_px == px
        cuts = [k for k in range(NAME_CHARS, len(name)) if plan.who == who_with(name, k)]
        assert cuts, (name, plan.who)
        k = max(cuts)  # a cut before a space is also the cut after it
        assert measure(f"  {name[:k].rstrip()}...", px) <= room, "it fits"
        assert measure(f"  {name[: k + 1]}...", px) > room, "and is the longest that fits"
    latin = "Maximilian Oberhuber-Schmidt"
    plan = plan_head(HeadText("Y4TTQ", timer="07:39", kind="PICKUP", name=latin), size, measure)
    assert plan.who == f"[b]PICKUP[/b]  {display_markup(latin)}"


def who_with(name: str, length: int) -> str:
    return f"[b]PICKUP[/b]  {display_markup(name[:length].rstrip() + '...')}"
