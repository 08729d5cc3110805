"""docs/events.md's grpcurl section, run as the shell script it is against the test gateway."""

from __future__ import annotations

import pytest

from gateway.runtime.server import Gateway
from tests.doc_scripts import run_doc_examples

pytestmark = pytest.mark.integration


async def test_every_events_grpcurl_example_runs(gateway: Gateway) -> None:
    # The session's gateway has seen other tests' streams, never these names.
    output = await run_doc_examples("events.md", gateway.port, 8)
    # The ciphertext never shows; the failing examples failed for their reason.
    assert "ciphertext" not in output and "_pii" not in output
    assert output.count("Code: Aborted") == 1 and output.count("Code: NotFound") == 1
