"""The pieces of the catalog cache's invalidations that need no server: which
search pages a write touches, and the follower's stored positions."""

from __future__ import annotations

import itertools

from gateway.domain.catalog.invalidations import (
    decode_position,
    encode_position,
    write_identity,
)
from gateway.domain.catalog.search_scopes import UNFILTERED, search_scope, touched_scopes
from gateway.records.events import END_OF_TX, Cursor


def test_a_write_touches_the_unfiltered_pages_and_its_categories() -> None:
    assert touched_scopes(["shoes", "shoes"]) == {UNFILTERED, "c:shoes"}
    assert touched_scopes(["shoes", "hats"]) == {UNFILTERED, "c:shoes", "c:hats"}
    # A product without a category is on unfiltered pages only.
    assert touched_scopes([""]) == {UNFILTERED}
    assert search_scope("") == UNFILTERED


def test_stored_positions_compare_as_their_cursors() -> None:
    cursors = [Cursor(), Cursor(1, 2), Cursor(1, 10), Cursor(9, 1), Cursor(10, 0),
               Cursor(10, END_OF_TX), Cursor(2**62, 3)]
    for a, b in itertools.product(cursors, repeat=2):
        assert (encode_position(a) < encode_position(b)) == (a < b)
        assert decode_position(encode_position(a)) == a


def test_a_write_is_named_by_what_it_stored() -> None:
    product = {"sku": "A-1", "version": 1, "updated_at": "2026-12-07T07:00:00+00:00"}
    recreated = {**product, "updated_at": "2026-12-07T08:00:00+00:00"}
    # A product created again after a delete starts at version 1 again.
    assert write_identity(False, product) != write_identity(False, recreated)
    assert write_identity(False, product) != write_identity(True, product)
