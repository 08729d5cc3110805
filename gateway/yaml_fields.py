"""Typed values read out of a YAML settings file, and one way to say what is wrong.

The topology config (gateway.runtime.config) and the policy files
(gateway.policy.loader) both read their values through a FieldReader, so a
mistake in either is reported alike: the file, the key path, the value found
and what is allowed. Problems are collected rather than raised, so an
operator fixes a file in one pass. A leaf module: the policy layer and the
runtime both import it, so it imports nothing from the gateway.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

E = TypeVar("E", bound=enum.Enum)

# Human durations: "250ms", "5s", "5m", "1h", "7d".
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_DURATION_HINT = "a duration such as 250ms, 5s, 5m, 1h or 7d"
# Sizes in binary units: "512KiB", "256MiB", "2GiB".
_SIZE = re.compile(r"^\s*([0-9]+)\s*(KiB|MiB|GiB)\s*$")
_SIZE_UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}


def _size_text(amount: int) -> str:
    for unit in ("GiB", "MiB", "KiB"):
        if amount % _SIZE_UNITS[unit] == 0:
            return f"{amount // _SIZE_UNITS[unit]}{unit}"
    return f"{amount} bytes"


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class FieldReader:
    """Reads one file's values by key path; a bad one is recorded and read as a fallback."""

    def __init__(self, file: str, origins: Mapping[str, str] | None = None) -> None:
        self.file = file
        # Keys set somewhere other than the file (an environment variable):
        # their problems name that source, which is what the user must fix.
        self.origins: Mapping[str, str] = origins or {}
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.origins.get(key, self.file), key, message))

    def read(self, path: Path) -> str | None:
        """The file's text; None once reported as unreadable."""
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem("(file)", f"cannot be read: {exc}")
            return None

    def parse(self, text: str) -> Any:
        """The YAML document in `text`; None also when it is not YAML (then reported)."""
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "(document)"
            self.problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
            return None

    def mapping(self, key: str, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        """`value` as a mapping whose keys are all in `allowed` (empty if it is no mapping).

        `key` is the mapping's own path, "" for the whole document.
        """
        if not isinstance(value, dict):
            self.problem(key or "(document)",
                         f"expected a mapping with keys {', '.join(allowed)}, got {value!r}")
            return {}
        for k in value:
            if k not in allowed:
                self.problem(f"{key}.{k}" if key else str(k),
                             f"unknown key; allowed keys: {', '.join(allowed)}")
        return value

    def choice(self, key: str, value: Any, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            self.problem(key, f"{value!r} is not one of: {', '.join(allowed)}")
            return None
        return str(value)

    def member(self, key: str, value: Any, kind: type[E]) -> E | None:
        """The member of enum `kind` whose value `value` is."""
        name = self.choice(key, value, tuple(m.value for m in kind))
        return None if name is None else kind(name)

    def text(self, key: str, value: Any, *, optional: bool = False) -> str | None:
        """A string setting; empty or null only where the setting can be off."""
        if optional and value in (None, ""):
            return None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
        self.problem(key, f"{value!r} is not a non-empty string")
        return None

    def boolean(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.problem(key, f"{value!r} is not true or false")
            return False
        return value

    def integer(self, key: str, value: Any, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problem(key, f"{value!r} is not a whole number from {low} to {high}")
            return low
        return value

    def duration(self, key: str, value: Any, *, positive: bool = True) -> float:
        """Seconds; `positive`: zero is refused too."""
        match = _DURATION.match(value) if isinstance(value, str) else None
        seconds = float(match[1]) * _UNITS[match[2]] if match else 0.0
        if match is None or (positive and seconds == 0):
            more = " (greater than zero)" if positive else ""
            self.problem(key, f"{value!r} is not {_DURATION_HINT}{more}")
            return 0.0
        return seconds

    def size(self, key: str, value: Any, low: int, high: int) -> int:
        """Bytes, written with a binary unit: 512KiB, 256MiB, 2GiB."""
        match = _SIZE.match(value) if isinstance(value, str) else None
        amount = int(match[1]) * _SIZE_UNITS[match[2]] if match else 0
        if match is None or not low <= amount <= high:
            self.problem(key, f"{value!r} is not a size such as 256MiB (KiB, MiB or GiB) "
                         f"from {_size_text(low)} to {_size_text(high)}")
            return low
        return amount

    def percent(self, key: str, value: Any) -> int:
        text = str(value).strip()
        digits = text[:-1] if text.endswith("%") else text
        if not digits.isdigit() or int(digits) > 100:
            self.problem(key, f"{value!r} is not a percentage from 0% to 100%")
            return 0
        return int(digits)

    def strings(
        self, key: str, value: Any, what: str, *,
        each: Callable[[str], bool] = bool, non_empty: bool = False,
    ) -> list[str]:
        """A list of strings that each pass `each` (by default: are not empty)."""
        if not isinstance(value, list) or (non_empty and not value) or not all(
                isinstance(v, str) and each(v) for v in value):
            self.problem(key, f"{value!r} is not a {'non-empty ' if non_empty else ''}"
                              f"list of {what}")
            return []
        return value
