"""`datagw health`: its default target and its arguments (the check itself,
against a running gateway, is tests/e2e/test_health_cli.py's)."""

from __future__ import annotations

import pytest

from gateway.runtime.cli import _parser
from gateway.runtime.health_cli import DEFAULT_PORT_ADDRESS, default_target


@pytest.mark.parametrize(("env", "target"), [
    ({}, DEFAULT_PORT_ADDRESS),
    # The image's listen address: a wildcard is dialled on loopback.
    ({"DATAGW_SERVER__LISTEN": "0.0.0.0:50051"}, "127.0.0.1:50051"),
    ({"DATAGW_SERVER__LISTEN": "[::]:6000"}, "[::1]:6000"),
    ({"DATAGW_SERVER__LISTEN": "10.0.0.7:6000"}, "10.0.0.7:6000"),
    # The chart's pods: the socket, plaintext even when the port has TLS.
    ({"DATAGW_SERVER__LISTEN": "0.0.0.0:50051",
      "DATAGW_SERVER__UNIX_SOCKET": "/var/run/datagw/datagw.sock"},
     "unix:/var/run/datagw/datagw.sock"),
    ({"DATAGW_SERVER__UNIX_SOCKET": ""}, DEFAULT_PORT_ADDRESS),
])
def test_default_target(env: dict[str, str], target: str) -> None:
    assert default_target(env) == target


def test_the_datagw_parser_knows_health() -> None:
    args = _parser().parse_args(["health", "--service", "datagw.v1.OrderService",
                                 "--timeout", "1.5", "--tls-ca", "ca.crt"])
    assert (args.command, args.service, args.timeout, args.tls_ca, args.target) == (
        "health", "datagw.v1.OrderService", 1.5, "ca.crt", None)
    with pytest.raises(SystemExit):
        _parser().parse_args(["health", "--timeout", "-1"])
