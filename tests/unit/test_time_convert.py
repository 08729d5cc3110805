"""The request Duration and Timestamp conversions take exactly the protobuf
well-known types' ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api.convert import duration_in, timestamp, timestamp_in
from gateway.errors import InvalidArgument

MAX_S = 315_576_000_000


@pytest.mark.parametrize(("seconds", "nanos"), [
    (MAX_S, 999_999_999), (-MAX_S, -999_999_999), (0, -999_999_999), (0, 999_999_999),
    (-1, 0), (1, 0), (0, 0),
])
def test_durations_in_range_convert(seconds: int, nanos: int) -> None:
    assert duration_in(Duration(seconds=seconds, nanos=nanos), "f") == pytest.approx(
        seconds + nanos / 1e9, abs=1e-6)


@pytest.mark.parametrize(("seconds", "nanos"), [
    (MAX_S + 1, 0), (-MAX_S - 1, 0), (0, 1_000_000_000), (0, -1_000_000_000),
    (1, -1), (-1, 1),
])
def test_durations_out_of_range_name_the_field(seconds: int, nanos: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        duration_in(Duration(seconds=seconds, nanos=nanos), "read_options.max_staleness")
    assert [v.field for v in caught.value.field_violations] == ["read_options.max_staleness"]


def test_the_first_and_last_timestamps_convert() -> None:
    first = Timestamp(seconds=-62_135_596_800)
    last = Timestamp(seconds=253_402_300_799, nanos=999_999_999)
    assert timestamp_in(first, "f") == datetime(1, 1, 1, tzinfo=UTC)
    assert timestamp_in(last, "f") == datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "nanos"), [
    (-62_135_596_801, 0), (253_402_300_800, 0), (0, -1), (0, 1_000_000_000),
])
def test_timestamps_out_of_range_name_the_field(seconds: int, nanos: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        timestamp_in(Timestamp(seconds=seconds, nanos=nanos), "start_time")
    assert [v.field for v in caught.value.field_violations] == ["start_time"]


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 7, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(1900, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-3))),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(2026, 12, 7, 1, 2, 3),  # naive: local time
])
def test_timestamps_out_match_the_protobuf_conversion(moment: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(moment.astimezone(UTC))
    assert timestamp(moment) == expected


def test_no_time_is_the_empty_timestamp() -> None:
    assert timestamp(None) == Timestamp()
