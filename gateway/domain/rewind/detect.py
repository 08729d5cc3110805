"""Whether a database went back in time, from what the gateway saw of it.

A failover also starts a new timeline, but at or after everything the old
primary acknowledged (datagw promotes only a standby that has it all); a
point-in-time restore leaves the old timeline before the position seen.
"""

from __future__ import annotations

from gateway.records.rewind import WalPosition
from gateway.storage.postgres.watermarks import lsn_text


def went_back(seen: WalPosition, now: WalPosition, history: dict[int, int] | None
              ) -> str | None:
    """Why the database at `now` is behind `seen`, in words; None if it is not.

    `history`: the current timeline's ancestors -> where each was left
    (None: unreadable, then a newer timeline counts as behind only if its
    position is)."""
    if now.system_identifier != seen.system_identifier:
        return (f"another database (system identifier {now.system_identifier}, was "
                f"{seen.system_identifier}): re-created or restored from another cluster")
    if now.timeline < seen.timeline:
        return f"on timeline {now.timeline}, older than timeline {seen.timeline} seen before"
    if now.timeline == seen.timeline:
        if now.lsn < seen.lsn:
            return (f"at WAL {lsn_text(now.lsn)}, behind {lsn_text(seen.lsn)} seen before "
                    "on the same timeline")
        return None
    if history is None:
        if now.lsn < seen.lsn:
            return (f"on timeline {now.timeline} at WAL {lsn_text(now.lsn)}, behind "
                    f"{lsn_text(seen.lsn)} seen on timeline {seen.timeline}")
        return None
    left = history.get(seen.timeline)
    if left is None:
        return (f"timeline {seen.timeline} seen before is not an ancestor of timeline "
                f"{now.timeline}: restored from another history")
    if left < seen.lsn:
        return (f"timeline {now.timeline} left timeline {seen.timeline} at WAL "
                f"{lsn_text(left)}, before {lsn_text(seen.lsn)} seen there: restored to an "
                "earlier point")
    return None
