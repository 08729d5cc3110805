"""Consistency tokens across timelines, timeline histories and multi-host
addresses: the pieces that let the gateway follow a failover."""

from __future__ import annotations

import pytest

from gateway.domain import tokens
from gateway.errors import InvalidArgument
from gateway.storage.postgres.pool import parse_lsn, redact
from gateway.storage.postgres.timelines import parse_history


def test_a_token_carries_its_timeline_and_names_its_shard() -> None:
    token = tokens.encode("commerce", 1, "0000000A.0/3A1F2B8")
    assert token == "v2.commerce.1.0000000A.0/3A1F2B8"
    assert tokens.position_for(token, "commerce", 1) == tokens.Position(10, parse_lsn("0/3A1F2B8"))
    assert tokens.position_for(token, "commerce", 0) is None
    assert tokens.position_for(token, "events", 1) is None
    assert tokens.position_for("", "commerce", 1) is None


def test_a_first_version_token_reads_with_no_timeline() -> None:
    position = tokens.position_for("v1.commerce.1.0/3A1F2B8", "commerce", 1)
    assert position == tokens.Position(0, parse_lsn("0/3A1F2B8"))


@pytest.mark.parametrize("bad", ["v2.commerce.1.1.0/3A", "v3.commerce.1.00000001.0/3A",
                                 "v2.commerce.1.00000001.0/3A\n", "v1.commerce.x.0/3A"])
def test_a_malformed_token_is_invalid_argument(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        tokens.position_for(bad, "commerce", 1)


def test_a_history_file_gives_each_ancestor_its_switch_point() -> None:
    text = ("1\t0/3000158\tno recovery target specified\n\n"
            "# a comment\n2\t0/5000000\tno recovery target specified\n")
    assert parse_history(text) == {1: parse_lsn("0/3000158"), 2: parse_lsn("0/5000000")}


@pytest.mark.parametrize(("dsn", "shown"), [
    ("postgresql://u:secret@h1:6001,h2:6002/db?target_session_attrs=read-write",
     "h1:6001,h2:6002"),
    ("postgresql://u:secret@db.internal/db", "db.internal:5432"),
    ("postgresql://[::1]:5433/db", "[::1]:5433"),
    ("postgresql:///db", "localhost:5432"),
])
def test_an_address_lists_every_host_and_no_password(dsn: str, shown: str) -> None:
    assert redact(dsn) == shown
