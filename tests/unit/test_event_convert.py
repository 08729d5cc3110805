"""An event's payload and personal data are JSON: a Struct number that JSON
cannot hold (NaN, ±Infinity) is INVALID_ARGUMENT naming the field."""

from __future__ import annotations

import json
import math

import pytest
from datagw.v1 import eventstore_pb2 as pb
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from gateway.api.eventstore_convert import event_in
from gateway.errors import InvalidArgument


def _struct(value: dict[str, object]) -> Struct:
    out = Struct()
    out.update(value)
    return out


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", ["payload", "pii"])
def test_a_non_finite_number_names_its_field(number: float, where: str) -> None:
    nested = {"a": {"b": [1.0, number]}}
    msg = pb.EventData(event_id="e", event_type="T", **{where: _struct(nested)})
    with pytest.raises(InvalidArgument) as caught:
        event_in(msg, "events[3]")
    assert [v.field for v in caught.value.field_violations] == [f"events[3].{where}"]


def test_finite_numbers_convert() -> None:
    msg = pb.EventData(event_id="e", event_type="T", payload=_struct({"x": 1.5, "y": [2]}),
                       pii=_struct({"z": -0.0}))
    converted = event_in(msg, "events[0]")
    assert converted.payload == {"x": 1.5, "y": [2]}
    assert converted.pii == {"z": -0.0}


def test_payloads_convert_as_json_format_does() -> None:
    value = {"s": "x", "n": 2.0, "f": -0.5, "big": 2.0**60, "t": True, "no": None, "empty": {},
             "list": [1, "a", None, False, {"deep": [[], {"k": "v"}]}], "unicode": "\u00e9\u4e2d"}
    msg = pb.EventData(event_id="e", event_type="T", payload=_struct(value))
    converted = event_in(msg, "events[0]").payload
    assert converted == json_format.MessageToDict(msg.payload)
    assert json.dumps(converted, sort_keys=True) == json.dumps(
        json_format.MessageToDict(msg.payload), sort_keys=True)
