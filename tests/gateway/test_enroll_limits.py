"""The enrollment back-off's counts under failures at once, on both stores: several processes
(each its own store, as another gateway worker or host) counting failures of one client and
one code together lose none of them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from kds_device.gateway.enroll_limits import EnrollLimits, EnrollPolicy, client_key, code_key
from kds_device.gateway.journal import Journal
from kds_device.gateway.storage import Store

pytestmark = pytest.mark.timeout(90)

WRITERS = 8
ROUNDS = 5


def test_failures_at_once_on_several_stores_each_count(open_db: Callable[[], Store]) -> None:
    Journal(open_db())  # creates the schema once, before the writers race
    policy = EnrollPolicy(free_attempts=1000)
    limits = [EnrollLimits(open_db(), policy) for _ in range(WRITERS)]
    keys = [client_key("10.0.0.9"), code_key("abc")]
    start = threading.Barrier(WRITERS)
    seen: list[dict[str, int]] = []
    problems: list[BaseException] = []

    def fail(limit: EnrollLimits) -> None:
        try:
            for _ in range(ROUNDS):
                start.wait(30)  # every writer's failure at the same moment
                seen.append(limit.failed(keys))
        except BaseException as problem:  # reported by the test's thread
            problems.append(problem)

    threads = [threading.Thread(target=fail, args=(limit,)) for limit in limits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not problems, problems[:3]
    total = WRITERS * ROUNDS
    for key in keys:
        counts = sorted(counts[key] for counts in seen)
        assert counts == list(range(1, total + 1)), f"{key}: failures lost or counted twice"
    row = (
        limits[0]
        .db.read()
        .execute("SELECT failures FROM enroll_attempts WHERE key = ?", (keys[0],))
        .fetchone()
    )
    assert int(row[0]) == total


def test_the_back_off_starts_after_the_free_attempts(open_db: Callable[[], Store]) -> None:
    Journal(open_db())
    limits = EnrollLimits(open_db(), EnrollPolicy(free_attempts=2, backoff_s=30.0))
    key = client_key("10.0.0.10")
    assert limits.failed([key]) == {key: 1} and limits.retry_after([key]) is None
    assert limits.failed([key]) == {key: 2}
    wait = limits.retry_after([key])
    assert wait is not None and 25 <= wait <= 30
    limits.failed([key])
    doubled = limits.retry_after([key])
    assert doubled is not None and 55 <= doubled <= 60
    limits.succeeded(key)
    assert limits.retry_after([key]) is None
