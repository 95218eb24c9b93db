"""What pacing costs the board once a second and after every pass: the falling-behind
projection (worked out afresh, and when the bar asks again within the second with nothing
changed) and the UPCOMING check (``release_due``), on a board of ``--tickets`` open orders
routed to three stations, about one in twelve of them scheduled.

    .venv/bin/python bench/pacing.py [--tickets 150] [--rounds 200]

Prints figures, the last line one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def per_call_ms(call, rounds: int) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    for _ in range(rounds):
        call()
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    from kds_device.domain import Board, BoardSettings
    from kds_device.sim.orders import OrderGenerator
    from tests.fixtures.common import FakeTime
    from tests.fixtures.pacing import received

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    clock = FakeTime()
    orders = OrderGenerator(seed=5, clock=lambda: clock.now.wall)
    board = Board(BoardSettings())
    for _ in range(args.tickets):
        board.apply_event(received(orders.order(), {"grill": 8, "fryer": 6, "cold": 3}), clock())
    pace = board.pace

    def fresh() -> None:
        board.changes += 1  # as after any change to the tickets
        pace.falling_behind(board, clock())

    figures = {
        "tickets": args.tickets,
        "upcoming": len(board.upcoming()),
        "falling_behind_ms": round(per_call_ms(fresh, args.rounds), 3),
        "falling_behind_again_ms": round(
            per_call_ms(lambda: pace.falling_behind(board, clock()), args.rounds), 4
        ),
        "release_due_ms": round(per_call_ms(lambda: board.release_due(clock()), args.rounds), 3),
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
