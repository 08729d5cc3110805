"""A gateway without an analytics store says so, instead of looking down."""

from __future__ import annotations

import pytest

from gateway.domain.analytics.reports import AnalyticsDomain
from gateway.errors import FailedPrecondition
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.services import POLICY_CATALOG
from tests.policy_fixtures import POLICIES


async def test_reports_and_queries_are_failed_precondition_without_a_store() -> None:
    analytics = AnalyticsDomain(PolicyRegistry(POLICIES, POLICY_CATALOG), None)
    with pytest.raises(FailedPrecondition) as caught:
        await analytics.run_query("SELECT 1", {}, 0, None)
    assert caught.value.reason == "ANALYTICS_NOT_CONFIGURED"
