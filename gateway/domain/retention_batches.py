"""How the retention job deletes: in batches, each its own short statement."""

from __future__ import annotations

from collections.abc import Awaitable, Callable


async def drain(batch_size: int, delete: Callable[[], Awaitable[int]]) -> int:
    """Run `delete` (one batch of at most `batch_size` rows; how many went)
    until a batch comes back short; how many went in all."""
    total = 0
    while True:
        n = await delete()
        total += n
        if n < batch_size:
            return total
