"""`datagw health`: one grpc.health.v1 Check as a command, for Docker's
HEALTHCHECK and Kubernetes exec probes.

A probe runs it every few seconds, so it imports only grpc and the health
stubs (runtime/command.py routes `datagw health` here before the rest of
the gateway is imported): about 0.2 s, where importing the gateway takes
1.5 s. For the same reason its default address comes from the environment
the image and the chart set, not from the config file.

Health is open to every caller that can connect (docs/security.md), so no
token is sent; a listener that requires client certificates (mTLS) wants
one at the TLS handshake: --tls-cert and --tls-key.

Exit status: 0 SERVING; 1 NOT_SERVING, UNKNOWN, or a service name the
gateway does not know (SERVICE_UNKNOWN); 2 usage; 3 no answer: unreachable,
timed out, the TLS handshake failed, or the call failed otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING, NOT_SERVING, USAGE, NO_ANSWER = 0, 1, 2, 3
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_PORT_ADDRESS = "127.0.0.1:50051"
# A wildcard listen address is reached on the loopback of the same family.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]"}


def default_target(env: Mapping[str, str]) -> str:
    """The configured server, as the variables of the image or the chart say:
    the unix socket (plaintext even when the TCP port has TLS), else the
    listen address with a wildcard host made loopback."""
    socket = env.get("DATAGW_SERVER__UNIX_SOCKET")
    if socket:
        return f"unix:{socket}"
    listen = env.get("DATAGW_SERVER__LISTEN")
    if not listen:
        return DEFAULT_PORT_ADDRESS
    host, _, port = listen.rpartition(":")
    return f"{_WILDCARDS.get(host, host)}:{port}"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Ask a running gateway for its grpc.health.v1 status and print it. Exit status: "
        "0 SERVING; 1 NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN; 2 usage; 3 no answer "
        "(unreachable, timed out, TLS handshake failed).")
    parser.add_argument(
        "--target", default=None,
        help="the gateway's gRPC target: host:port, or unix:PATH for its unix socket "
             "(default: unix:$DATAGW_SERVER__UNIX_SOCKET if set, else "
             f"$DATAGW_SERVER__LISTEN on loopback, else {DEFAULT_PORT_ADDRESS})")
    parser.add_argument(
        "--service", default="",
        help='the health name: "" (default) the whole gateway, datagw.v1.<Name>Service '
             "a service and its backends, datagw.shard.<keyspace>.<n> one shard")
    parser.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_TIMEOUT_S:g})")
    tls = parser.add_argument_group(
        "TLS", "for a TCP port with TLS (server.tls); any of these turns TLS on")
    tls.add_argument("--tls", action="store_true",
                     help="use TLS, trusting the system's certificate authorities")
    tls.add_argument("--tls-ca", metavar="FILE",
                     help="the CA certificate(s) that signed the gateway's certificate (PEM)")
    tls.add_argument("--tls-cert", metavar="FILE",
                     help="a client certificate (PEM), for a port that requires one (mTLS)")
    tls.add_argument("--tls-key", metavar="FILE", help="the client certificate's key (PEM)")
    tls.add_argument("--tls-server-name", metavar="NAME",
                     help="the name the gateway's certificate must carry, when the target's "
                          "host is not it (e.g. 127.0.0.1 inside the container)")


class UsageError(Exception):
    """Options that parse but do not make a connection (exit 2)."""


def _read(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def open_channel(args: argparse.Namespace, target: str) -> grpc.Channel:
    use_tls = args.tls or any((args.tls_ca, args.tls_cert, args.tls_key, args.tls_server_name))
    if not use_tls:
        return grpc.insecure_channel(target)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if target.startswith("unix:"):
        raise UsageError("the unix socket is plaintext: TLS options are for a TCP target")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(args.tls_ca), private_key=_read(args.tls_key),
        certificate_chain=_read(args.tls_cert))
    options = ([("grpc.ssl_target_name_override", args.tls_server_name)]
               if args.tls_server_name else [])
    return grpc.secure_channel(target, credentials, options=options)


def run(args: argparse.Namespace) -> int:
    target = args.target or default_target(os.environ)
    what = f"{args.service or 'server'} at {target}"
    try:
        channel = open_channel(args, target)
    except UsageError as exc:
        print(f"datagw health: {exc}", file=sys.stderr)
        return USAGE
    with channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout)
        except grpc.RpcError as err:
            code = err.code() if isinstance(err, grpc.Call) else None
            if code is grpc.StatusCode.NOT_FOUND:
                # Check's answer for a name the server does not know; Watch
                # would say SERVICE_UNKNOWN, the name printed for it.
                print(f"{what}: SERVICE_UNKNOWN")
                return NOT_SERVING
            detail = f" ({err.details()})" if isinstance(err, grpc.Call) and err.details() else ""
            print(f"datagw health: {what}: {code.name if code else err}{detail}",
                  file=sys.stderr)
            return NO_ANSWER
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{what}: {status}")
    return SERVING if reply.status == health_pb2.HealthCheckResponse.SERVING else NOT_SERVING


def main(argv: list[str]) -> int:
    """`datagw health` on its own (runtime/command.py), without the gateway's imports."""
    parser = argparse.ArgumentParser(prog="datagw health")
    configure(parser)
    return run(parser.parse_args(argv))
