"""ImportReport keeps the first MAX_IMPORT_ERRORS rejected rows by index,
whatever order they are found in (a batch the database refuses is redone
row by row while later rows are being checked)."""

from __future__ import annotations

from gateway.domain.catalog.service import MAX_IMPORT_ERRORS, ImportReport
from gateway.errors import FieldViolation


def _reject(report: ImportReport, index: int) -> None:
    report.reject(index, f"sku-{index}", FieldViolation("product", "bad"))


def test_rows_found_late_take_their_place_by_index() -> None:
    report = ImportReport()
    for index in (5, 9, 2, 7):
        _reject(report, index)
    assert [e[0] for e in report.errors] == [2, 5, 7, 9]
    assert report.failed == 4


def test_only_the_first_rows_by_index_are_kept() -> None:
    report = ImportReport()
    late = range(1000, 1000 + MAX_IMPORT_ERRORS)
    for index in late:
        _reject(report, index)
    _reject(report, 3)  # an earlier batch's row, refused by the database
    _reject(report, 5000)  # beyond every kept row: counted, not kept
    assert report.failed == MAX_IMPORT_ERRORS + 2
    assert len(report.errors) == MAX_IMPORT_ERRORS
    assert [e[0] for e in report.errors] == [3, *late[:-1]]
