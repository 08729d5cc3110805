"""Activity: loops rest while no call arrives and wake at the first one.

No timed assertion: the idle pause is given far longer than the test runs,
so a pause that ends at all was ended by the call.
"""

from __future__ import annotations

import asyncio

from gateway.tasks import Activity

FOREVER_S = 3600.0


async def test_a_pause_after_calls_is_the_short_one() -> None:
    activity = Activity()
    seen = activity.calls
    activity.note()
    assert await activity.pause(seen, 0.0, FOREVER_S) == 1


async def test_an_idle_pause_ends_at_the_next_call_for_every_loop_waiting() -> None:
    activity = Activity()
    # After the call, the short pause (0 here) before the next round.
    waiting = [asyncio.create_task(activity.pause(activity.calls, 0.0, FOREVER_S))
               for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(t.done() for t in waiting)
    activity.note()
    assert await asyncio.gather(*waiting) == [1, 1, 1]


async def test_an_idle_pause_without_calls_lasts_its_interval() -> None:
    activity = Activity()
    assert await activity.pause(activity.calls, FOREVER_S, 0.0) == 0
