"""The pure parts of authentication: peers, key sets, per-caller limits."""

from __future__ import annotations

import pytest

from gateway.api.auth.identity import _loopback
from gateway.api.auth.limits import CallerLimiter
from gateway.api.auth.tokens import KeySetError, parse_key_set
from gateway.errors import ResourceExhausted
from gateway.policy.access import CallerLimit
from tests.auth_fixtures import Issuer


@pytest.mark.parametrize(("peer", "loopback"), [
    ("ipv4:127.0.0.1:5000", True),
    # A mesh proxy's passthrough address: a remote caller, not the pod's app.
    ("ipv4:127.0.0.6:5000", False), ("ipv4:127.3.4.5:1", False),
    ("ipv6:%5B::1%5D:5000", True), ("ipv6:[::1]:5000", True),
    ("ipv6:%5B::ffff:127.0.0.1%5D:5000", True),
    ("ipv4:10.0.0.7:5000", False), ("ipv6:%5B2001:db8::1%5D:5000", False),
    ("unix:", False), ("unix:/run/datagw.sock", False), ("garbage", False),
])
def test_loopback_peers(peer: str, loopback: bool) -> None:
    assert _loopback(peer) is loopback


def test_a_key_set_keeps_signing_keys_by_id_and_refuses_what_is_not_one() -> None:
    issuer = Issuer()
    assert set(parse_key_set(issuer.jwks(), "jwks")) == {issuer.current}
    for text in ("", "{}", '{"keys": []}', "[1, 2]", '{"keys": [{"kty": "nope"}]}'):
        with pytest.raises(KeySetError):
            parse_key_set(text, "jwks")


def test_a_caller_over_its_concurrency_is_refused_until_a_call_ends() -> None:
    limiter = CallerLimiter()
    limit = CallerLimit(concurrency=2)
    assert limiter.acquire("jwt:a", limit) and limiter.acquire("jwt:a", limit)
    with pytest.raises(ResourceExhausted) as caught:
        limiter.acquire("jwt:a", limit)
    assert caught.value.reason == "CALLER_CONCURRENCY_LIMIT"
    assert limiter.acquire("jwt:b", limit)  # another caller has its own count
    limiter.release("jwt:a")
    assert limiter.acquire("jwt:a", limit)
    # No limit: nothing is counted, nothing to release.
    assert not limiter.acquire("jwt:c", CallerLimit())


def test_a_rate_limit_allows_the_burst_then_says_when_to_retry() -> None:
    limiter = CallerLimiter()
    limit = CallerLimit(rate=0.5, burst=2)
    for _ in range(2):
        limiter.acquire("jwt:a", limit)
        limiter.release("jwt:a")
    with pytest.raises(ResourceExhausted) as caught:
        limiter.acquire("jwt:a", limit)
    assert caught.value.reason == "CALLER_RATE_LIMIT"
    assert caught.value.retry_after_s is not None
    assert 1.9 < caught.value.retry_after_s <= 2.0
