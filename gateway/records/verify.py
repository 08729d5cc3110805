"""What a cross-store verification found (docs/operations.md, "Verifying the stores").

A report records, per check, what was compared (counts) besides what
disagreed, so a clean report says how much was found to agree."""

from __future__ import annotations

from dataclasses import dataclass, field

# The checks, in the order a report lists them.
EVENTS_VS_ANALYTICS = "events_vs_analytics"
PROJECTIONS = "projections"
INVENTORY = "inventory"
HOUSEKEEPING = "housekeeping"
RANGE_MAPS = "range_maps"
CHECKS = (EVENTS_VS_ANALYTICS, PROJECTIONS, INVENTORY, HOUSEKEEPING, RANGE_MAPS)

# ERROR: the stores disagree (data lost, doubled or wrong). WARNING: the data
# agrees but something needs care (a table past its retention, a stuck
# saga). INFO: an expected difference, reported so the counts add up (events
# retention removed from PostgreSQL that ClickHouse keeps).
ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class EventWindow:
    """One store's view of a window of a source shard's event positions
    (positions // width == bucket): the events, the order-independent
    checksum of their ids, and the orders/order_lines rows they make."""

    bucket: int
    events: int
    checksum: int
    orders: int
    lines: int


@dataclass(frozen=True)
class Finding:
    check: str
    # What is wrong, e.g. "missing_in_analytics", "projection_mismatch".
    kind: str
    severity: str
    keyspace: str
    shard: int | None  # None: not about one shard (a catalog row, a sku)
    table: str
    # The row or range it is about: "user u-1 EUR", "positions 1000-1999".
    key: str
    expected: str
    found: str
    detail: str = ""


@dataclass
class CheckResult:
    check: str
    # What was compared, e.g. {"events": 1200, "users": 40, "skipped_behind": 2}.
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Why (part of) the check could not run ("" when it ran): a shard down,
    # no analytics store.
    errors: list[str] = field(default_factory=list)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)


@dataclass(frozen=True)
class VerifyReport:
    # The fraction of keys and cursor ranges looked at; None: everything.
    sample: float | None
    results: tuple[CheckResult, ...]
    duration_s: float

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def clean(self) -> bool:
        """Nothing disagrees or needs care, and every check ran (a check that
        could not run proves nothing)."""
        return not any(f.severity in (ERROR, WARNING) for f in self.findings) \
            and not any(r.errors for r in self.results)
