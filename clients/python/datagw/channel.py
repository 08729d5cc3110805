"""Channels to the gateway that apply its gRPC service config.

The service config (``service_config.json`` in this package, the same file
every datagw client ships) makes a call wait for the gateway while its
deadline allows (waitForReady), retry UNAVAILABLE and RESOURCE_EXHAUSTED with
exponential backoff, and stop retrying when most calls fail (retry
throttling). grpc applies it only when the channel is given it, so make
channels here, or pass :func:`channel_options` to ``grpc.aio`` channels::

    from datagw.channel import insecure_channel
    with insecure_channel("localhost:50051") as channel:
        ...

Always give calls a deadline (``timeout=``): with waitForReady, a call to a
gateway that is down waits for it until the deadline passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

import grpc

SERVICE_CONFIG: str = files(__package__).joinpath("service_config.json").read_text("utf-8")
"""The gRPC service config (JSON) of every datagw client."""

ChannelOptions = Sequence[tuple[str, Any]]


def channel_options(extra: ChannelOptions = ()) -> list[tuple[str, Any]]:
    """grpc channel options that apply :data:`SERVICE_CONFIG`, then ``extra``."""
    return [("grpc.service_config", SERVICE_CONFIG), ("grpc.enable_retries", 1), *extra]


def insecure_channel(target: str, options: ChannelOptions = ()) -> grpc.Channel:
    """A plaintext channel to ``target`` (host:port) with the service config."""
    return grpc.insecure_channel(target, options=channel_options(options))


def secure_channel(
    target: str, credentials: grpc.ChannelCredentials, options: ChannelOptions = ()
) -> grpc.Channel:
    """A TLS channel to ``target`` with ``credentials`` and the service config."""
    return grpc.secure_channel(target, credentials, options=channel_options(options))
