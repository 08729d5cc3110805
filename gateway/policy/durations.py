"""Human durations used in policy and config files ("250ms", "5s", "5m", "1h", "7d")."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")

DURATION_HINT = "a duration such as 250ms, 5s, 5m, 1h or 7d"


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError naming the accepted forms otherwise."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"expected {DURATION_HINT}")
    return float(match.group(1)) * _UNITS[match.group(2)]
