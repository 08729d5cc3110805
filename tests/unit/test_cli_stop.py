"""`datagw serve` never hangs on a stop that does not finish."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from gateway.runtime.cli import _stop_within


class _StuckStop:
    """A gateway whose drain never ends; its cleanup runs in a finally, as Gateway.stop's."""

    def __init__(self) -> None:
        self.cleaned_up = False

    async def stop(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # the cleanup may itself await
            self.cleaned_up = True


class _QuickStop:
    async def stop(self) -> None:
        await asyncio.sleep(0)


async def test_a_stuck_stop_is_abandoned_after_the_limit_and_still_cleans_up() -> None:
    stuck = _StuckStop()
    assert await _stop_within(cast(Any, stuck), 0.2) is False
    assert stuck.cleaned_up


async def test_a_normal_stop_reports_success() -> None:
    assert await _stop_within(cast(Any, _QuickStop()), 5.0) is True
